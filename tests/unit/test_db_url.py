"""DATABASE_URL handling: libpq forms in, the right driver URL and role out."""
from db.url import database_name, redact, to_sqlalchemy, with_database, with_user


def test_libpq_url_becomes_a_psycopg3_sqlalchemy_url():
    assert to_sqlalchemy("postgresql://postgres@127.0.0.1:5432/test") == "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert to_sqlalchemy("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"


def test_unix_socket_form_keeps_its_host_query():
    url = "postgresql://postgres:@/dokani?host=/work/main/.pgdata"
    app = with_user(url, "dokani_app")
    assert app.startswith("postgresql://dokani_app@/dokani?host=")
    assert "%2Fwork%2Fmain%2F.pgdata" in app or "/work/main/.pgdata" in app
    assert database_name(app) == "dokani"


def test_switching_database_and_user_keeps_host_and_port():
    url = "postgresql://postgres:secret@db.example:6543/postgres?sslmode=require"
    assert with_database(url, "other") == "postgresql://postgres:secret@db.example:6543/other?sslmode=require"
    assert with_user(url, "dokani_app") == "postgresql://dokani_app@db.example:6543/postgres?sslmode=require"


def test_passwords_never_reach_the_page():
    assert redact("postgresql://u:hunter2@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert "hunter2" not in redact("postgresql://u:hunter2@h/db")
