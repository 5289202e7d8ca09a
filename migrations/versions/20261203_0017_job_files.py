"""Job files: what a background job reads (an uploaded import) or writes (an export), stored in chunks.

Revision ID: 0017
Revises: 0011
Create Date: 2026-12-03

- ``background_jobs.kind`` also takes ``risk_recompute``, ``returns_import``, ``calls_import``, ``returns_export``.
- ``public.job_files``: one file of a business handed to or made by a job (``purpose`` ``input`` / ``output``):
  its name, type, size and SHA-256; ``public.job_file_chunks``: its bytes, in order, at most 1 MiB a chunk, so
  neither a 10 MiB upload nor a 250,000-row export travels as one value and a download is streamed chunk by chunk.
- Row-level security like 0012: every member reads the business's files; writers (owner, admin, reviewer,
  tester) store files in their own name; the one who stored a file (the worker acts as them) or an owner / admin
  deletes it; its creator sets its size and digest once written. Chunks carry the business too and follow the same rules.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0017"
down_revision = "0011"
branch_labels = None
depends_on = None

KINDS = ("backtest", "suite_run", "risk_recompute", "returns_import", "calls_import", "returns_export")
WRITERS = "{owner,admin,reviewer,tester}"
EDITORS = "{owner,admin}"
TENANT = "business_id = ANY (CAST((SELECT dokani.member_business_ids()) AS uuid[]))"


def _may(roles: str) -> str:
    return f"business_id = ANY (CAST((SELECT dokani.business_ids_for_roles('{roles}')) AS uuid[]))"


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def _kinds(kinds: tuple[str, ...]) -> None:
    _x("ALTER TABLE public.background_jobs DROP CONSTRAINT IF EXISTS background_jobs_kind_check")
    listed = ", ".join(f"'{k}'" for k in kinds)
    _x(f"ALTER TABLE public.background_jobs ADD CONSTRAINT background_jobs_kind_check CHECK (kind IN ({listed}))")


def _rls(table: str, owner_column: str) -> None:
    _x(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
    _x(f"ALTER TABLE public.{table} FORCE ROW LEVEL SECURITY")
    _x(f"CREATE POLICY dokani_read ON public.{table} FOR SELECT TO authenticated USING ({TENANT})")
    _x(f"CREATE POLICY dokani_insert ON public.{table} FOR INSERT TO authenticated "
       f"WITH CHECK (({_may(WRITERS)}) AND {owner_column} = auth.uid())")
    _x(f"CREATE POLICY dokani_delete ON public.{table} FOR DELETE TO authenticated "
       f"USING ((({_may(WRITERS)}) AND {owner_column} = auth.uid()) OR ({_may(EDITORS)}))")
    _x(f"GRANT SELECT, INSERT, DELETE ON public.{table} TO authenticated")


def upgrade() -> None:
    _kinds(KINDS)
    _x("""
        CREATE TABLE public.job_files (
          id bigserial PRIMARY KEY,
          business_id uuid NOT NULL REFERENCES public.profiles(business_id) ON DELETE CASCADE,
          purpose text NOT NULL CHECK (purpose IN ('input', 'output')),
          file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
          content_type text NOT NULL DEFAULT 'application/octet-stream',
          size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
          sha256 text,
          created_by uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
          created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    _x("CREATE INDEX job_files_business ON public.job_files (business_id, created_at DESC)")
    _x("""
        CREATE TABLE public.job_file_chunks (
          file_id bigint NOT NULL REFERENCES public.job_files(id) ON DELETE CASCADE,
          seq integer NOT NULL CHECK (seq >= 0),
          business_id uuid NOT NULL REFERENCES public.profiles(business_id) ON DELETE CASCADE,
          created_by uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
          data bytea NOT NULL CHECK (octet_length(data) <= 1048576),
          PRIMARY KEY (file_id, seq)
        )
    """)
    _rls("job_files", "created_by")
    _rls("job_file_chunks", "created_by")
    # A stored file's size and digest are known once its last chunk is written: its creator sets them.
    _x(f"CREATE POLICY dokani_update ON public.job_files FOR UPDATE TO authenticated "
       f"USING (({_may(WRITERS)}) AND created_by = auth.uid()) WITH CHECK (({_may(WRITERS)}) AND created_by = auth.uid())")
    _x("GRANT UPDATE (size_bytes, sha256) ON public.job_files TO authenticated")
    _x("GRANT USAGE, SELECT ON SEQUENCE public.job_files_id_seq TO authenticated")


def downgrade() -> None:
    _x("DROP TABLE IF EXISTS public.job_file_chunks")
    _x("DROP TABLE IF EXISTS public.job_files")
    _x("DELETE FROM public.background_jobs WHERE kind NOT IN ('backtest', 'suite_run')")
    _kinds(("backtest", "suite_run"))
