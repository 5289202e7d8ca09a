"""Background jobs: procrastinate's queue in schema ``procrastinate`` and ``background_jobs``, what a page shows.

Revision ID: 0012
Revises: 0015
Create Date: 2026-12-02

- Schema ``procrastinate``: the job queue's own tables and functions, read from the installed package
  (``procrastinate/sql/schema.sql``, the version pinned in requirements.txt) so the SQL is never copied by
  hand. It lives outside ``public`` so Supabase's API never exposes it; its functions carry their own
  ``search_path`` and the app role ``dokani_app`` gets ``procrastinate`` at the end of its role-level
  ``search_path``: procrastinate's queries name its objects unqualified, and a role-level setting holds for
  every server connection, also through PgBouncer in transaction mode (a per-session ``SET`` would not).
  Only ``dokani_app`` (the console and the workers) may use it; ``authenticated`` and ``anon`` cannot.
- ``public.background_jobs``: one row per piece of background work of a business (a backtest, a suite run):
  state, progress, result or error, who asked and when. Row-level security like 0006: every member reads
  the business's jobs; writers (owner, admin, reviewer, tester) queue them in their own name; only the
  requester's identity updates a job (the worker acts as that member, so revoking them stops their jobs);
  owners and admins delete. A partial unique index on (business_id, lock_key) over live jobs makes the same
  work queued twice one job.
"""
from __future__ import annotations

from importlib import resources

from alembic import op
from sqlalchemy import text

revision = "0012"
down_revision = "0015"
branch_labels = None
depends_on = None

APP_ROLE = "dokani_app"
QUEUE_SCHEMA = "procrastinate"
APP_SEARCH_PATH = f'"$user", public, {QUEUE_SCHEMA}'
WRITERS = "{owner,admin,reviewer,tester}"
EDITORS = "{owner,admin}"
TENANT = "business_id = ANY (CAST((SELECT dokani.member_business_ids()) AS uuid[]))"


def _may(roles: str) -> str:
    return f"business_id = ANY (CAST((SELECT dokani.business_ids_for_roles('{roles}')) AS uuid[]))"


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def _queue_schema() -> None:
    sql = (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
    conn = op.get_bind()
    previous = conn.execute(text("SELECT current_setting('search_path')")).scalar()
    _x(f"CREATE SCHEMA {QUEUE_SCHEMA}")
    conn.execute(text("SELECT set_config('search_path', :p, true)"), {"p": f"{QUEUE_SCHEMA}, pg_catalog"})
    # Many statements with $$ bodies and literal %: psycopg sends a script without parameters as it is.
    conn.connection.driver_connection.execute(sql)
    conn.execute(text("SELECT set_config('search_path', :p, true)"), {"p": previous})
    # Functions and triggers resolve procrastinate's names whatever the caller's search_path is.
    for (signature,) in conn.execute(text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = :s"), {"s": QUEUE_SCHEMA}).all():
        _x(f"ALTER FUNCTION {signature} SET search_path = {QUEUE_SCHEMA}, pg_catalog")
    _x(f"GRANT USAGE ON SCHEMA {QUEUE_SCHEMA} TO {APP_ROLE}")
    _x(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {QUEUE_SCHEMA} TO {APP_ROLE}")
    _x(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {QUEUE_SCHEMA} TO {APP_ROLE}")
    _x(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {QUEUE_SCHEMA} FROM PUBLIC")
    _x(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {QUEUE_SCHEMA} TO {APP_ROLE}")
    _x(f"ALTER ROLE {APP_ROLE} SET search_path = {APP_SEARCH_PATH}")


def _jobs_table() -> None:
    _x(
        """
        CREATE TABLE public.background_jobs (
          id bigserial PRIMARY KEY,
          business_id uuid NOT NULL REFERENCES public.profiles(business_id) ON DELETE CASCADE,
          kind text NOT NULL CHECK (kind IN ('backtest', 'suite_run')),
          title text NOT NULL,
          params jsonb NOT NULL DEFAULT '{}'::jsonb,
          lock_key text NOT NULL,
          state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
          progress_done integer NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
          progress_total integer CHECK (progress_total >= 0),
          progress_note text,
          attempts integer NOT NULL DEFAULT 0,
          result jsonb,
          error text,
          retry_of bigint REFERENCES public.background_jobs(id) ON DELETE SET NULL,
          queue_job_id bigint,
          requested_by uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
          requested_by_email text,
          requested_role text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          started_at timestamptz,
          finished_at timestamptz,
          updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    _x("CREATE INDEX background_jobs_business_recent ON public.background_jobs (business_id, kind, created_at DESC)")
    # The same work (kind + subject) is live at most once per business: queueing it again finds this one.
    _x("CREATE UNIQUE INDEX background_jobs_one_live ON public.background_jobs (business_id, lock_key) "
       "WHERE state IN ('queued', 'running')")
    _x("ALTER TABLE public.background_jobs ENABLE ROW LEVEL SECURITY")
    _x("ALTER TABLE public.background_jobs FORCE ROW LEVEL SECURITY")
    _x(f"CREATE POLICY dokani_read ON public.background_jobs FOR SELECT TO authenticated USING ({TENANT})")
    _x(f"CREATE POLICY dokani_insert ON public.background_jobs FOR INSERT TO authenticated "
       f"WITH CHECK (({_may(WRITERS)}) AND requested_by = auth.uid())")
    _x(f"CREATE POLICY dokani_update ON public.background_jobs FOR UPDATE TO authenticated "
       f"USING (({_may(WRITERS)}) AND requested_by = auth.uid()) "
       f"WITH CHECK (({_may(WRITERS)}) AND requested_by = auth.uid())")
    _x(f"CREATE POLICY dokani_delete ON public.background_jobs FOR DELETE TO authenticated USING ({_may(EDITORS)})")
    _x("GRANT SELECT, INSERT, UPDATE, DELETE ON public.background_jobs TO authenticated")
    _x("GRANT USAGE, SELECT ON SEQUENCE public.background_jobs_id_seq TO authenticated")


def upgrade() -> None:
    _queue_schema()
    _jobs_table()


def downgrade() -> None:
    _x("DROP TABLE IF EXISTS public.background_jobs")
    # dokani_app's search_path is kept: a role setting holds for every database of the server (other databases
    # may still have the queue), and a schema that does not exist in a search_path is skipped.
    _x(f"DROP SCHEMA IF EXISTS {QUEUE_SCHEMA} CASCADE")
