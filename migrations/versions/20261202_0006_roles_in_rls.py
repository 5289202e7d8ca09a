"""Roles in row-level security: who may write what, per table and command, decided by Postgres.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Until 0005 every table had one policy, ``dokani_tenant``, for every command: a member of a business could
write anything of it, whatever their role (a tester could approve returns with hand-written SQL). Now:

- ``dokani.business_ids_for_roles(roles)``: the businesses where the signed-in user has one of ``roles``
  (narrowed to ``dokani.business_id`` when set, like ``dokani.member_business_ids()``). Policies call it
  once per statement (an InitPlan), not once per row.
- Each table gets one policy per command (``dokani_read``, ``dokani_insert``, ``dokani_update``,
  ``dokani_delete``); a command without a policy is refused. SELECT stays the tenant check for everyone.
  The matrix (role x table x command) is ``MATRIX`` below and the "Roles in Postgres" section of README.md.
- A row's parents must all belong to the one business the writer may write: a chat message's session, a
  call's persona, chat session and conversation, a transcript's call, a security event's return, a suite log's
  persona, a backtest's policy... (``dokani.business_of_*``; they read the parents *through* row-level
  security, so a parent the writer cannot see counts as no business at all). This closes the hole where a
  call_sessions row could name a persona of business A and a chat session of business B.
- ``policies``: owners and admins write; every member may still do the bookkeeping opening the Policies
  page does (store recomputed metrics, apply a schedule an admin set), and nothing else: the trigger
  ``policies_role_guard`` refuses any other change by a reviewer, tester or viewer.
- ``audit_log``: insert-only, and only in your own name (``actor_id = auth.uid()``); viewers only for that
  same bookkeeping. No UPDATE or DELETE for anyone (no privilege).
- ``business_members``: owners and admins manage the members of their business; only an owner may make or
  unmake an owner; the last owner of a business cannot be removed or demoted (``business_members_keep_owner``).
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OWNER, ADMIN, REVIEWER, TESTER, VIEWER = "owner", "admin", "reviewer", "tester", "viewer"
EDITORS = (OWNER, ADMIN)
DECIDERS = (OWNER, ADMIN, REVIEWER)
LAB = (OWNER, ADMIN, TESTER)
WRITERS = (OWNER, ADMIN, REVIEWER, TESTER)
EVERYONE = (OWNER, ADMIN, REVIEWER, TESTER, VIEWER)

# Audit actions a viewer's page visit may write (derived bookkeeping; see policies_role_guard).
BOOKKEEPING_ACTIONS = ("policy.metrics_refreshed", "policy.schedule_applied", "policy.retired")

# Who may INSERT / UPDATE / DELETE, per table (SELECT: every member). Mirrored in README.md and tested cell by cell
# in tests/integration/test_roles_rls.py. () = nobody.
MATRIX: dict[str, dict[str, tuple[str, ...]]] = {
    "profiles": {"insert": (), "update": EDITORS, "delete": ()},
    "business_members": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "policies": {"insert": EDITORS, "update": EVERYONE, "delete": EDITORS},  # update: trigger narrows non-editors
    "policy_backtests": {"insert": WRITERS, "update": (), "delete": EDITORS},
    "return_requests": {"insert": EDITORS, "update": DECIDERS, "delete": EDITORS},  # + testers on is_test rows
    "customer_risk_profiles": {"insert": DECIDERS, "update": DECIDERS, "delete": EDITORS},
    "security_events": {"insert": DECIDERS, "update": DECIDERS, "delete": EDITORS},
    "chat_sessions": {"insert": LAB, "update": LAB, "delete": LAB},
    "chat_messages": {"insert": LAB, "update": LAB, "delete": LAB},
    "persona_test_logs": {"insert": LAB, "update": LAB, "delete": LAB},
    "provider_configs": {"insert": LAB, "update": LAB, "delete": EDITORS},
    "audit_log": {"insert": WRITERS, "update": (), "delete": ()},  # + viewers for BOOKKEEPING_ACTIONS
    "mock_orders": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "file_uploads": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "business_analytics": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "agent_performance_logs": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "conversation_sessions": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "conversation_messages": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "conversation_chunks": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "ai_conversation_state": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "call_sessions": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "call_transcripts": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "call_analytics": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "audio_chunks": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "video_frames": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "video_analysis": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "streaming_sessions": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
    "video_stream_analysis": {"insert": EDITORS, "update": EDITORS, "delete": EDITORS},
}
# user_preferences: every signed-in user reads and writes their own row only (no business), as in 0002.

# The business a row belongs to, for tables without business_id: through its parent(s), read under RLS.
VIA_PARENT_BUSINESS = {
    "chat_messages": "dokani.business_of_chat_session(session_id)",
    "conversation_messages": "dokani.business_of_conversation(session_id)",
    "conversation_chunks": "dokani.business_of_conversation(session_id)",
    "ai_conversation_state": "dokani.business_of_conversation(session_id)",
    "call_sessions": "dokani.business_of_call_parents(persona_config_id, chat_session_id, ai_conversation_state_id)",
    "call_transcripts": "dokani.business_of_call(call_session_id)",
    "call_analytics": "dokani.business_of_call(call_session_id)",
    "audio_chunks": "dokani.business_of_call(session_id)",
    "video_frames": "dokani.business_of_call(session_id)",
    "video_analysis": "dokani.business_of_call(session_id)",
    "streaming_sessions": "dokani.business_of_call(call_session_id)",
    "video_stream_analysis": "dokani.business_of_streaming_session(session_id)",
}
# Who may read them: the parent is visible (0002's rule); a call needs *every* parent it names to be visible.
VIA_PARENT_READ = {
    "chat_messages": "session_id IN (SELECT id FROM public.chat_sessions)",
    "conversation_messages": "session_id IN (SELECT id FROM public.conversation_sessions)",
    "conversation_chunks": "session_id IN (SELECT id FROM public.conversation_sessions)",
    "ai_conversation_state": "session_id IN (SELECT id FROM public.conversation_sessions)",
    "call_sessions": (
        "(persona_config_id IS NOT NULL OR chat_session_id IS NOT NULL OR ai_conversation_state_id IS NOT NULL) "
        "AND (persona_config_id IS NULL OR persona_config_id IN (SELECT id FROM public.provider_configs)) "
        "AND (chat_session_id IS NULL OR chat_session_id IN (SELECT id FROM public.chat_sessions)) "
        "AND (ai_conversation_state_id IS NULL OR ai_conversation_state_id IN (SELECT id FROM public.ai_conversation_state))"
    ),
    "call_transcripts": "call_session_id IN (SELECT id FROM public.call_sessions)",
    "call_analytics": "call_session_id IN (SELECT id FROM public.call_sessions)",
    "audio_chunks": "session_id IN (SELECT id FROM public.call_sessions)",
    "video_frames": "session_id IN (SELECT id FROM public.call_sessions)",
    "video_analysis": "session_id IN (SELECT id FROM public.call_sessions)",
    "streaming_sessions": "call_session_id IN (SELECT id FROM public.call_sessions)",
    "video_stream_analysis": "session_id IN (SELECT id FROM public.streaming_sessions)",
}
# Tables with business_id that also name a parent of some business: the parent must be of the same one.
SAME_BUSINESS_PARENTS = {
    "policies": "based_on_id IS NULL OR dokani.business_of_policy(based_on_id) = business_id",
    "policy_backtests": "dokani.business_of_policy(policy_id) = business_id",
    "return_requests": "test_session_id IS NULL OR dokani.business_of_chat_session(test_session_id) = business_id",
    "security_events": "return_request_id IS NULL OR dokani.business_of_return(return_request_id) = business_id",
    "conversation_sessions": "return_request_id IS NULL OR dokani.business_of_return(return_request_id) = business_id",
    "persona_test_logs": "config_id IS NULL OR dokani.business_of_provider_config(config_id) = business_id",
    "agent_performance_logs": "session_id IS NULL OR dokani.business_of_chat_session(session_id) = business_id",
}

TENANT = "business_id = ANY (CAST((SELECT dokani.member_business_ids()) AS uuid[]))"
OLD_POLICY = "dokani_tenant"
POLICY_NAMES = (OLD_POLICY, "dokani_read", "dokani_insert", "dokani_update", "dokani_delete")


def _x(sql: str) -> None:
    op.get_bind().execute(text(sql))


def may(roles: tuple[str, ...], business: str = "business_id") -> str:
    """`business` is one where the signed-in user has one of `roles` (evaluated once per statement)."""
    return f"{business} = ANY (CAST((SELECT dokani.business_ids_for_roles('{{{','.join(roles)}}}')) AS uuid[]))"


def _and(*parts: str | None) -> str:
    return " AND ".join(f"({p})" for p in parts if p)


def _write_rules(table: str) -> dict[str, tuple[str | None, str | None]]:
    """command -> (USING, WITH CHECK) for INSERT / UPDATE / DELETE; None where nobody may."""
    business = VIA_PARENT_BUSINESS.get(table, "business_id")
    parents = SAME_BUSINESS_PARENTS.get(table)
    rules: dict[str, tuple[str | None, str | None]] = {}
    for command, roles in MATRIX[table].items():
        if not roles:
            continue
        allowed = may(roles, business)
        if table == "return_requests":  # testers write test returns (the lab's), never live ones
            allowed = f"{allowed} OR (is_test AND {may((TESTER,), business)})"
        if table == "policies" and command == "update":
            allowed = TENANT  # every member; dokani.policies_role_guard() says which changes
        if table == "audit_log":  # only in your own name; viewers only for page-visit bookkeeping
            actions = ", ".join(f"'{a}'" for a in BOOKKEEPING_ACTIONS)
            allowed = (f"actor_id = (SELECT auth.uid()) AND ({allowed} "
                       f"OR ({may((VIEWER,), business)} AND action IN ({actions})))")
        check = _and(allowed, parents)
        rules[command] = {"insert": (None, check), "update": (allowed, check), "delete": (allowed, None)}[command]
    return rules


def _functions() -> None:
    _x(
        """
        CREATE OR REPLACE FUNCTION dokani.business_ids_for_roles(roles text[]) RETURNS uuid[]
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
          SELECT coalesce(array_agg(m.business_id), '{}')
          FROM public.business_members m
          WHERE m.user_id = auth.uid() AND m.role = ANY (roles)
            AND (nullif(current_setting('dokani.business_id', true), '') IS NULL
                 OR m.business_id = nullif(current_setting('dokani.business_id', true), '')::uuid)
        $$;
        """
    )
    # The business of a parent row, read as the caller (SECURITY INVOKER): a parent the writer cannot see
    # has no business, so a row cannot point into another tenant, and nothing about that tenant leaks.
    _x(
        """
        CREATE OR REPLACE FUNCTION dokani.business_of_chat_session(id uuid) RETURNS uuid
        LANGUAGE sql STABLE AS $$ SELECT s.business_id FROM public.chat_sessions s WHERE s.id = $1 $$;
        CREATE OR REPLACE FUNCTION dokani.business_of_provider_config(id uuid) RETURNS uuid
        LANGUAGE sql STABLE AS $$ SELECT p.business_id FROM public.provider_configs p WHERE p.id = $1 $$;
        CREATE OR REPLACE FUNCTION dokani.business_of_conversation(id uuid) RETURNS uuid
        LANGUAGE sql STABLE AS $$ SELECT c.business_id FROM public.conversation_sessions c WHERE c.id = $1 $$;
        CREATE OR REPLACE FUNCTION dokani.business_of_return(id bigint) RETURNS uuid
        LANGUAGE sql STABLE AS $$ SELECT r.business_id FROM public.return_requests r WHERE r.id = $1 $$;
        CREATE OR REPLACE FUNCTION dokani.business_of_policy(id bigint) RETURNS uuid
        LANGUAGE sql STABLE AS $$ SELECT p.business_id FROM public.policies p WHERE p.id = $1 $$;

        -- A call belongs to the one business all the parents it names belong to; none, or two, is no business.
        CREATE OR REPLACE FUNCTION dokani.business_of_call_parents(persona uuid, chat uuid, conversation_state uuid)
        RETURNS uuid LANGUAGE sql STABLE AS $$
          SELECT CASE WHEN count(*) > 0 AND bool_and(b IS NOT NULL) AND count(DISTINCT b) = 1
                      THEN (array_agg(b))[1] END
          FROM (
            SELECT dokani.business_of_provider_config($1) AS b WHERE $1 IS NOT NULL
            UNION ALL SELECT dokani.business_of_chat_session($2) WHERE $2 IS NOT NULL
            UNION ALL SELECT (SELECT dokani.business_of_conversation(s.session_id)
                              FROM public.ai_conversation_state s WHERE s.id = $3) WHERE $3 IS NOT NULL
          ) parents
        $$;
        CREATE OR REPLACE FUNCTION dokani.business_of_call(id uuid) RETURNS uuid
        LANGUAGE sql STABLE AS $$
          SELECT dokani.business_of_call_parents(c.persona_config_id, c.chat_session_id, c.ai_conversation_state_id)
          FROM public.call_sessions c WHERE c.id = $1
        $$;
        CREATE OR REPLACE FUNCTION dokani.business_of_streaming_session(id uuid) RETURNS uuid
        LANGUAGE sql STABLE AS $$
          SELECT dokani.business_of_call(s.call_session_id) FROM public.streaming_sessions s WHERE s.id = $1
        $$;
        """
    )
    _x("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA dokani TO authenticated")


def _policies_guard() -> None:
    """Non-editors may only do the policy bookkeeping every member's page visit does."""
    metric_cols = ", ".join(f"'{c}'" for c in ("policy_impact_score", "usage_statistics", "compliance_metrics"))
    lifecycle = ", ".join(f"'{c}'" for c in ("state", "is_active", "retired_at", "lock_version", "updated_at"))
    _x(
        f"""
        CREATE OR REPLACE FUNCTION dokani.policies_role_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
          who text;
          metrics text[] := ARRAY[{metric_cols}];
          steps text[] := ARRAY[{metric_cols}, {lifecycle}];
        BEGIN
          IF current_user <> 'authenticated' THEN
            RETURN NEW;
          END IF;
          who := coalesce(dokani.member_role(OLD.business_id), 'none');
          IF who IN ('owner', 'admin') THEN
            RETURN NEW;
          END IF;
          -- Recomputed metrics (dokani.policies.versions.refresh_metrics): derived, not an edit.
          IF (to_jsonb(NEW) - metrics) = (to_jsonb(OLD) - metrics) THEN
            RETURN NEW;
          END IF;
          -- Applying a schedule an owner or admin set (apply_due_schedules): the scheduled version becomes
          -- active at its own effective date, and the version it replaces is retired. Nothing else moves.
          IF (to_jsonb(NEW) - steps) = (to_jsonb(OLD) - steps)
             AND ((OLD.state = 'scheduled' AND NEW.state = 'active')
                  OR (OLD.state = 'active' AND NEW.state = 'retired' AND EXISTS (
                        SELECT 1 FROM public.policies p
                        WHERE p.business_id = OLD.business_id AND p.state = 'scheduled' AND p.id <> OLD.id))) THEN
            RETURN NEW;
          END IF;
          RAISE EXCEPTION 'only an owner or admin may change policy version % (your role: %)', OLD.version, who
            USING ERRCODE = 'insufficient_privilege';
        END $$;
        DROP TRIGGER IF EXISTS policies_role_guard ON public.policies;
        CREATE TRIGGER policies_role_guard BEFORE UPDATE ON public.policies
          FOR EACH ROW EXECUTE FUNCTION dokani.policies_role_guard();
        """
    )


def _members_guard() -> None:
    _x(
        """
        -- Only an owner makes or unmakes an owner (an admin cannot promote themselves).
        CREATE OR REPLACE FUNCTION dokani.business_members_owner_rows() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF current_user = 'authenticated'
             AND ((TG_OP <> 'INSERT' AND OLD.role = 'owner') OR (TG_OP <> 'DELETE' AND NEW.role = 'owner'))
             AND coalesce(dokani.member_role(CASE WHEN TG_OP = 'DELETE' THEN OLD.business_id ELSE NEW.business_id END),
                          '') <> 'owner' THEN
            RAISE EXCEPTION 'only an owner can make someone an owner or change an owner''s membership'
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$;
        DROP TRIGGER IF EXISTS business_members_owner_rows ON public.business_members;
        CREATE TRIGGER business_members_owner_rows BEFORE INSERT OR UPDATE OR DELETE ON public.business_members
          FOR EACH ROW EXECUTE FUNCTION dokani.business_members_owner_rows();

        -- Membership changes take turns (they are rare), so two owners demoting each other at once cannot
        -- leave a business with none: the second one sees the first one's change.
        CREATE OR REPLACE FUNCTION dokani.business_members_serialise() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_advisory_xact_lock(7310455006);
          RETURN NULL;
        END $$;
        DROP TRIGGER IF EXISTS business_members_serialise ON public.business_members;
        CREATE TRIGGER business_members_serialise BEFORE UPDATE OR DELETE ON public.business_members
          FOR EACH STATEMENT EXECUTE FUNCTION dokani.business_members_serialise();

        -- The last owner of a business cannot be removed or demoted (unless the business itself is deleted).
        CREATE OR REPLACE FUNCTION dokani.business_members_keep_owner() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
          owners bigint;
          shop text;
        BEGIN
          IF OLD.role <> 'owner' OR (TG_OP = 'UPDATE' AND NEW.role = 'owner' AND NEW.business_id = OLD.business_id) THEN
            RETURN NULL;
          END IF;
          SELECT p.business_name INTO shop FROM public.profiles p WHERE p.business_id = OLD.business_id;
          IF NOT FOUND THEN
            RETURN NULL;  -- the business is being deleted with its members
          END IF;
          SELECT count(*) INTO owners FROM (
            SELECT 1 FROM public.business_members m
            WHERE m.business_id = OLD.business_id AND m.role = 'owner' FOR UPDATE
          ) o;
          IF owners = 0 THEN
            RAISE EXCEPTION 'the last owner of % cannot be removed or demoted', shop
              USING ERRCODE = 'check_violation',
                    HINT = 'Make another member an owner first, then change this one.';
          END IF;
          RETURN NULL;
        END $$;
        DROP TRIGGER IF EXISTS business_members_keep_owner ON public.business_members;
        CREATE TRIGGER business_members_keep_owner AFTER UPDATE OR DELETE ON public.business_members
          FOR EACH ROW EXECUTE FUNCTION dokani.business_members_keep_owner();
        """
    )


def upgrade() -> None:
    _functions()
    for table in MATRIX:
        _x(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
        for name in POLICY_NAMES:
            _x(f"DROP POLICY IF EXISTS {name} ON public.{table}")
        read = VIA_PARENT_READ.get(table, TENANT)
        _x(f"CREATE POLICY dokani_read ON public.{table} FOR SELECT TO authenticated USING ({read})")
        for command, (using, check) in _write_rules(table).items():
            clauses = (f" USING ({using})" if using else "") + (f" WITH CHECK ({check})" if check else "")
            _x(f"CREATE POLICY dokani_{command} ON public.{table} FOR {command.upper()} TO authenticated{clauses}")

    _x("GRANT SELECT, INSERT, UPDATE, DELETE ON public.business_members TO authenticated")
    _x("REVOKE UPDATE, DELETE ON public.audit_log FROM authenticated")
    _x("REVOKE UPDATE ON public.policy_backtests FROM authenticated")
    _policies_guard()
    _members_guard()


def downgrade() -> None:
    """Back to 0005: one tenant policy per table, memberships written by services only."""
    for table in MATRIX:
        for name in POLICY_NAMES:
            _x(f"DROP POLICY IF EXISTS {name} ON public.{table}")
        using = VIA_PARENT_READ.get(table, TENANT)
        if table == "call_sessions":
            using = ("persona_config_id IN (SELECT id FROM public.provider_configs) "
                     "OR chat_session_id IN (SELECT id FROM public.chat_sessions)")
        _x(f"CREATE POLICY {OLD_POLICY} ON public.{table} TO authenticated USING ({using}) WITH CHECK ({using})")
    _x("REVOKE INSERT, UPDATE, DELETE ON public.business_members FROM authenticated")
    for trigger, table in (("policies_role_guard", "policies"), ("business_members_owner_rows", "business_members"),
                           ("business_members_serialise", "business_members"),
                           ("business_members_keep_owner", "business_members")):
        _x(f"DROP TRIGGER IF EXISTS {trigger} ON public.{table}")
    _x(
        """
        DROP FUNCTION IF EXISTS dokani.policies_role_guard();
        DROP FUNCTION IF EXISTS dokani.business_members_owner_rows();
        DROP FUNCTION IF EXISTS dokani.business_members_serialise();
        DROP FUNCTION IF EXISTS dokani.business_members_keep_owner();
        DROP FUNCTION IF EXISTS dokani.business_of_streaming_session(uuid);
        DROP FUNCTION IF EXISTS dokani.business_of_call(uuid);
        DROP FUNCTION IF EXISTS dokani.business_of_call_parents(uuid, uuid, uuid);
        DROP FUNCTION IF EXISTS dokani.business_of_policy(bigint);
        DROP FUNCTION IF EXISTS dokani.business_of_return(bigint);
        DROP FUNCTION IF EXISTS dokani.business_of_conversation(uuid);
        DROP FUNCTION IF EXISTS dokani.business_of_provider_config(uuid);
        DROP FUNCTION IF EXISTS dokani.business_of_chat_session(uuid);
        DROP FUNCTION IF EXISTS dokani.business_ids_for_roles(text[]);
        """
    )
