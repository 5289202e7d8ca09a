"""Real sign-in: passwords in ``auth.users``, revocable sessions, failed-attempt lockout, set-password links.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

- ``auth.users.encrypted_password``: Supabase's own column and bcrypt format; added only where missing
  (an adopted Supabase project keeps its column, its hashes and its GoTrue functions untouched).
- ``dokani.sign_in_sessions``: one row per signed-in browser; only the SHA-256 of the cookie's random
  token is stored, with idle and absolute expiry and revocation.
- ``dokani.sign_in_failures``: failed attempts per email, for the lockout after five in fifteen minutes.
- ``dokani.password_links``: one-time, expiring invitation and reset links (hashed like sessions).
- Role ``dokani_signin``: what the sign-in service may touch (these tables, and the password column of
  ``auth.users``), nothing of any business's data. ``dokani_app`` may ``SET ROLE`` to it.
- The old demo directory ``dokani.sign_in_directory()`` (every member's email, granted to ``anon``) is gone.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APP_ROLE = "dokani_app"
SIGNIN_ROLE = "dokani_signin"


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def upgrade() -> None:
    _x(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SIGNIN_ROLE}') THEN
            CREATE ROLE {SIGNIN_ROLE} NOLOGIN;
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;
        GRANT {SIGNIN_ROLE} TO {APP_ROLE};
        """
    )
    # Checked first: on Supabase the column exists and auth.users is not ours to ALTER.
    _x(
        """
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                         WHERE table_schema = 'auth' AND table_name = 'users' AND column_name = 'encrypted_password') THEN
            ALTER TABLE auth.users ADD COLUMN encrypted_password text;
          END IF;
        END $$;
        """
    )
    _x(
        """
        CREATE TABLE IF NOT EXISTS dokani.sign_in_sessions (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            token_hash bytea NOT NULL UNIQUE,
            user_id uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            user_agent text
        );
        CREATE INDEX IF NOT EXISTS sign_in_sessions_user_idx ON dokani.sign_in_sessions (user_id);

        CREATE TABLE IF NOT EXISTS dokani.sign_in_failures (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            email text NOT NULL,
            failed_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS sign_in_failures_email_idx ON dokani.sign_in_failures (email, failed_at);

        CREATE TABLE IF NOT EXISTS dokani.password_links (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            token_hash bytea NOT NULL UNIQUE,
            user_id uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
            purpose text NOT NULL CHECK (purpose IN ('invite', 'reset')),
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz
        );
        """
    )
    _x(
        f"""
        GRANT USAGE ON SCHEMA auth, dokani TO {SIGNIN_ROLE};
        GRANT SELECT (id, email, encrypted_password, created_at) ON auth.users TO {SIGNIN_ROLE};
        GRANT UPDATE (encrypted_password) ON auth.users TO {SIGNIN_ROLE};
        GRANT INSERT (id, email, created_at) ON auth.users TO {SIGNIN_ROLE};
        GRANT SELECT, INSERT, UPDATE ON dokani.sign_in_sessions, dokani.password_links TO {SIGNIN_ROLE};
        GRANT SELECT, INSERT, DELETE ON dokani.sign_in_failures TO {SIGNIN_ROLE};
        GRANT SELECT ON public.business_members TO {SIGNIN_ROLE};
        """
    )
    # Both tables have row-level security: the sign-in role reads accounts and memberships (to learn whether
    # a user belongs to any business) and writes nothing but a password.
    _x(
        f"""
        DROP POLICY IF EXISTS signin_reads_memberships ON public.business_members;
        CREATE POLICY signin_reads_memberships ON public.business_members FOR SELECT TO {SIGNIN_ROLE} USING (true);
        DROP POLICY IF EXISTS signin_reads_accounts ON auth.users;
        CREATE POLICY signin_reads_accounts ON auth.users FOR SELECT TO {SIGNIN_ROLE} USING (true);
        DROP POLICY IF EXISTS signin_sets_passwords ON auth.users;
        CREATE POLICY signin_sets_passwords ON auth.users FOR UPDATE TO {SIGNIN_ROLE} USING (true) WITH CHECK (true);
        DROP POLICY IF EXISTS signin_creates_accounts ON auth.users;
        CREATE POLICY signin_creates_accounts ON auth.users FOR INSERT TO {SIGNIN_ROLE} WITH CHECK (true);
        """
    )
    # Colleagues see each other's names and emails in timelines, never a password hash.
    _x("REVOKE SELECT ON auth.users FROM authenticated")
    _x("GRANT SELECT (id, email, created_at) ON auth.users TO authenticated")
    # A lockout is a security event of every business the email belongs to (security_events needs one).
    _x(
        f"""
        CREATE OR REPLACE FUNCTION dokani.record_sign_in_lockout(who text, attempts integer, until timestamptz)
        RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE n integer;
        BEGIN
          INSERT INTO public.security_events (event_type, business_id, severity, event_data)
          SELECT 'sign_in_locked', m.business_id, 'high',
                 jsonb_build_object('email', who, 'failed_attempts', attempts, 'locked_until', until)
          FROM public.business_members m JOIN auth.users u ON u.id = m.user_id
          WHERE lower(u.email) = lower(who);
          GET DIAGNOSTICS n = ROW_COUNT;
          RETURN n;
        END $$;
        REVOKE ALL ON FUNCTION dokani.record_sign_in_lockout(text, integer, timestamptz) FROM PUBLIC, authenticated;
        GRANT EXECUTE ON FUNCTION dokani.record_sign_in_lockout(text, integer, timestamptz) TO {SIGNIN_ROLE};
        DROP FUNCTION IF EXISTS dokani.sign_in_directory();
        """
    )


def downgrade() -> None:
    _x("DROP FUNCTION IF EXISTS dokani.record_sign_in_lockout(text, integer, timestamptz)")
    _x("DROP POLICY IF EXISTS signin_reads_memberships ON public.business_members")
    _x("DROP POLICY IF EXISTS signin_reads_accounts ON auth.users")
    _x("DROP POLICY IF EXISTS signin_sets_passwords ON auth.users")
    _x("DROP POLICY IF EXISTS signin_creates_accounts ON auth.users")
    _x("GRANT SELECT ON auth.users TO authenticated")
    _x("DROP TABLE IF EXISTS dokani.password_links, dokani.sign_in_failures, dokani.sign_in_sessions")
