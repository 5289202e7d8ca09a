"""A returns CSV is checked whole: each problem names its line and column; a good file previews cleanly."""
from dokani.returns.csv_import import TEMPLATE, preview_returns_csv


def test_the_template_previews_cleanly():
    preview = preview_returns_csv(TEMPLATE.encode())
    assert preview.ok and preview.problems == []
    row = preview.rows[0]
    assert (row.order_id, row.customer_email, row.product_category, row.order_value) == ("ORD-1001", "jane@example.com", "home", 24.9)
    assert row.evidence_urls == ["https://cdn.example.com/photo1.jpg"]


def test_every_problem_names_its_line_and_column():
    data = (
        "order_id,customer_email,reason_for_return,order_value,product_category,evidence_urls,created_at\n"
        "A-1,ok@example.com,broken,10,home,https://x.example/a.jpg,2026-11-01\n"
        "A-2,not-an-email,broken,ten,cars,javascript:alert(1),yesterday\n"
        ",ok@example.com,,5,,,\n"
    ).encode()
    preview = preview_returns_csv(data)
    assert not preview.ok
    text = "\n".join(preview.problems)
    assert "line 3, customer_email: not an email address" in text
    assert "line 3, order_value: not a number" in text
    assert "line 3, product_category: unknown category 'cars'" in text
    assert "line 3, evidence_urls: only http(s) links" in text
    assert "line 3, created_at: not a date/time" in text
    assert "line 4, order_id: is empty" in text and "line 4, reason_for_return: is empty" in text
    assert not any(p.startswith("line 2") for p in preview.problems)


def test_files_that_are_not_a_returns_csv_are_refused_clearly():
    assert "missing column(s) customer_email, reason_for_return" in preview_returns_csv(b"order_id\nA-1\n").problems[0]
    assert "not UTF-8" in preview_returns_csv(b"order_id,customer_email,reason_for_return\n\xff\xfe,x,y\n").problems[0]
    assert "no returns" in preview_returns_csv(b"order_id,customer_email,reason_for_return\n").problems[0]
    extra = preview_returns_csv(b"order_id,customer_email,reason_for_return\nA,a@b.example,r,EXTRA\n")
    assert "line 2: 1 cell(s) more than the header has" in extra.problems
