"""The return queue: KPI strip, triage button, filters, a keyset-paged table, bulk decisions, CSV export.

The page of rows a reviewer sees is kept in the session (a snapshot) until the filter, the page or a
refresh changes it, so row selections always point at the rows on screen and bulk decisions carry the
versions the reviewer saw.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from db.engine import app_url
from db.uow import Actor, unit_of_work
from dokani.errors import DokaniError, Invalid
from dokani.jobs.enqueue import CAN_QUEUE
from dokani.jobs.triage import KIND as TRIAGE_KIND, LOCK as TRIAGE_LOCK, queue_triage
from dokani.returns import decisions, filters, query_string
from dokani.returns import queue as svc
from dokani.returns.decisions import SeenReturn
from dokani.returns.export_http import export_link
from dokani.returns.filters import ReturnQueueFilter
from dokani.returns.status import DECIDING_ROLES, NEEDS_DECISION, label
from dokani.risk.profiles import RISK_BANDS_HELP
from dokani.ui import format as fmt
from dokani.ui.accounts import preferences
from dokani.ui.context import has_session_cookie
from dokani.ui.errors import show_domain_error
from dokani.ui.jobs.export import show_export_job
from dokani.ui.jobs.panel import show_job
from dokani.ui.text import visible
from dokani.ui.returns.state import QUEUE_GENERATION, QUEUE_SNAPSHOT, flash, refresh_queue, show_flash
from dokani.labels import count, say

SORTS = {
    "Oldest first": ("age", False),
    "Newest first": ("age", True),
    "Highest risk": ("risk", True),
    "Highest value": ("value", True),
}
SLA_LABELS = {code: say("sla", code) for code in ("overdue", "due_soon", "on_time")}
PAGE_SIZES = [25, 50, 100, 200]
# What a reviewer scans first (status, age, order, customer, value, risk, the AI's view), the ids last.
COLUMN_ORDER = ["open", "status", "sla_state", "age_hours", "order_id", "customer_email", "order_value", "risk_score",
                "risk_band", "ai_recommendation", "ai_confidence", "reason_code", "reason_for_return",
                "product_category", "created_at", "policy_version_used", "public_id"]
SNAPSHOT = QUEUE_SNAPSHOT
CURSORS = "returns_queue_cursors"
GENERATION = QUEUE_GENERATION


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} h" if value < 72 else f"{value / 24:.1f} d"


def refresh() -> None:
    """Drop the snapshot and the selection; the next run reads the queue again."""
    refresh_queue()


@st.cache_data(ttl=5, show_spinner=False, max_entries=1000)
def _workload(actor: Actor, sla_hours: float, generation: int, database: str) -> tuple[svc.QueueKpis, dict]:
    """The KPI strip and the filter options, read on every rerun: kept for a few seconds per person and database
    (the actor is in the key, so never across people or businesses); `generation` moves after this person's own
    changes."""
    with unit_of_work(actor) as uow:
        return svc.queue_kpis(uow, sla_hours), svc.filter_options(uow)


def show(actor: Actor) -> None:
    show_flash()
    sla_hours = float(st.session_state.get("returns_sla_hours") or preferences.current().review_sla_hours)
    kpis, options = _workload(actor, sla_hours, st.session_state.get(QUEUE_GENERATION, 0), app_url())
    _kpi_strip(kpis)
    if actor.role not in DECIDING_ROLES:
        st.info(f"Your role ({actor.role}) can read the queue; only owners, admins and reviewers can triage "
                "or decide returns.", icon=":material/lock:")
    _triage_button(actor, kpis)

    filt = _filters(options)
    if filt is None:
        return
    page = _page(actor, filt)
    _table(actor, filt, page)


def _kpi_strip(k: svc.QueueKpis) -> None:
    c = st.columns(5)
    c[0].metric("Waiting for a decision", f"{k.waiting:,}")
    c[1].metric(f"Overdue (> {k.sla_hours:g} h)", f"{k.overdue:,}")
    c[2].metric("Median age", _hours(k.median_age_hours) if k.waiting else "nothing waiting")
    c[3].metric("Value at stake", fmt.money(k.value_at_stake), help="order value of the returns waiting for a decision")
    c[4].metric("New, awaiting triage", f"{k.awaiting_triage:,}")


def _triage_button(actor: Actor, k: svc.QueueKpis) -> None:
    """Triage every new return on a background worker, its progress live here; the queue shows the result."""
    if k.awaiting_triage:
        may = actor.role in DECIDING_ROLES
        if st.button(f"Triage {count(k.awaiting_triage, 'new return')} now", key="queue_triage", disabled=not may,
                     help="Runs the triage engine under the active policy on every return in pending_triage, "
                          "on a background worker"):
            try:
                job, created = queue_triage(actor)
            except DokaniError as err:
                show_domain_error(err)
            else:
                if not created and job.live:
                    st.info("A triage of the new returns is already under way; its progress shows below.")

    def triaged(job) -> None:  # the strip above was read before it ended: read the queue again, now
        refresh()
        flash("success", _triage_done(job))
        st.rerun()

    show_job(actor, TRIAGE_KIND, TRIAGE_LOCK, unit="returns triaged", done_message=_triage_done, on_done=triaged)


def _triage_done(job) -> str:
    return (job.result or {}).get("summary") or "The new returns are triaged."


LINK_KEY, LINK_EXTRA = "queue_link", "queue_link_extra"


def _link_filters(options: dict[str, list[str]]) -> dict:
    """Filters from a drill-down link (``/returns?status=...&from=...``, see ``dokani.returns.query_string``): put
    into the filter widgets once per link; the ones without a widget (AI recommendation, decided by a person, rule
    trace) are returned and stay in force until cleared."""
    params = st.query_params.to_dict()
    if not query_string.has_filters(params):
        st.session_state.pop(LINK_KEY, None)
        return {}
    signature = sorted(params.items())
    # Again after another page: Streamlit dropped the filter widgets' state, so the link must be applied anew.
    if st.session_state.get(LINK_KEY) != signature or "queue_statuses" not in st.session_state:
        st.session_state[LINK_KEY] = signature
        try:
            f = query_string.from_query(params)
        except Invalid as err:
            show_domain_error(err)
            st.session_state[LINK_EXTRA] = {}
            return {}
        st.session_state.update(queue_statuses=f.statuses, queue_risk=f.risk_bands, queue_reasons=f.reasons,
                                queue_categories=[c for c in f.categories if c in options["categories"]],
                                queue_min_value=f.min_value, queue_max_value=f.max_value, queue_sla=f.sla_states,
                                queue_created=tuple(d for d in (f.created_from, f.created_to) if d))
        if "sla_hours" in params:
            st.session_state["returns_sla_hours"] = int(f.sla_hours)
        st.session_state[LINK_EXTRA] = {"recommendations": f.recommendations, "decided_by_person": f.decided_by_person,
                                        "rule_trace": f.rule_trace}
    extra = st.session_state.get(LINK_EXTRA) or {}
    if any(extra.values()) and st.button("Clear the overview's filters", key="queue_link_clear"):
        st.query_params.clear()
        st.session_state.pop(LINK_EXTRA, None)
        st.rerun()
    return extra


def _first_value(key: str, value) -> None:
    """Give the widget `key` its first value through session state (so it is created without a default)."""
    if key not in st.session_state:
        st.session_state[key] = value


def _filters(options: dict[str, list[str]]) -> tuple[ReturnQueueFilter, int] | None:
    extra = _link_filters(options)
    top = st.columns([3, 2, 1, 1])
    search = top[0].text_input("Search", key="queue_search", placeholder="order id, customer email or return id")
    sort_label = top[1].selectbox("Sort", list(SORTS), key="queue_sort")
    prefs = preferences.current()  # the person's own defaults (Your settings)
    page_size = top[2].selectbox("Rows per page", PAGE_SIZES, index=PAGE_SIZES.index(prefs.rows_per_page),
                                 key="queue_page_size")
    # no default once a drill-down link has set the SLA (Streamlit refuses both)
    top[3].number_input("Review SLA (hours)", min_value=1, max_value=24 * 60, step=12, key="returns_sla_hours",
                        value=None if "returns_sla_hours" in st.session_state else prefs.review_sla_hours)
    with st.expander("Filters", expanded=False):
        a = st.columns([2, 1, 1.2, 1.2])
        # Widgets whose value a drill-down link may set take their first value from session state, never from a
        # default argument as well (Streamlit warns when a widget has both: issue #16, ``queue_created``).
        _first_value("queue_statuses", list(NEEDS_DECISION))
        statuses = a[0].multiselect("Status", options["statuses"], format_func=label, key="queue_statuses",
                                    help="Empty: every status")
        risk = a[1].multiselect("Risk", ["low", "medium", "high"], key="queue_risk",
                                help=RISK_BANDS_HELP)
        categories = a[2].multiselect("Category", options["categories"], key="queue_categories")
        reasons = a[3].multiselect("Reason", options["reasons"], key="queue_reasons",
                                   format_func=lambda r: r.replace("_", " "))
        b = st.columns(4)
        min_value = b[0].number_input("Order value from", min_value=0.0, value=None, key="queue_min_value")
        max_value = b[1].number_input("Order value up to", min_value=0.0, value=None, key="queue_max_value")
        _first_value("queue_created", ())
        created = b[2].date_input("Asked between", key="queue_created", max_value=date.today())
        sla = b[3].multiselect("SLA", list(SLA_LABELS), format_func=SLA_LABELS.get, key="queue_sla")
    sort, descending = SORTS[sort_label]
    created = tuple(created) if isinstance(created, (tuple, list)) else (created,)
    try:
        return filters.build_filter(
            statuses=statuses, risk_bands=risk, categories=categories, reasons=reasons, min_value=min_value,
            max_value=max_value, created_from=created[0] if created else None,
            created_to=created[1] if len(created) > 1 else None, sla_states=sla, search=search or None,
            sort=sort, descending=descending, **extra,
            sla_hours=float(st.session_state.get("returns_sla_hours") or preferences.current().review_sla_hours),
        ), page_size
    except Invalid as err:
        show_domain_error(err)
        return None


def _page(actor: Actor, filt_and_size) -> svc.QueuePage:
    filt, page_size = filt_and_size
    key = (filt.model_dump_json(), page_size, st.session_state.get(GENERATION, 0))
    cursors = st.session_state.get(CURSORS)
    if not cursors or cursors[0] != key:
        cursors = [key, None]  # [filter key, cursor of page 1, cursor of page 2, ...]
        st.session_state[CURSORS] = cursors
    cursor = cursors[-1]
    snap = st.session_state.get(SNAPSHOT)
    if not snap or snap[0] != (key, cursor):
        with unit_of_work(actor) as uow:
            page = svc.queue_page(uow, filt, cursor=cursor, page_size=page_size)
        st.session_state[SNAPSHOT] = ((key, cursor), page)
        return page
    return snap[1]


def _table(actor: Actor, filt_and_size, page: svc.QueuePage) -> None:
    filt, _ = filt_and_size
    cursors = st.session_state[CURSORS]
    number = len(cursors) - 1
    first = (number - 1) * page.page_size
    if page.total == 0:
        _empty(filt)
        return
    st.caption(f"Page {number} · returns {first + 1:,}–{first + len(page.rows):,} of {page.total:,} matching")
    st.text(visible("Filters in force: " + _describe(filt)))  # category names are data: plain text
    generation = st.session_state.get(GENERATION, 0)
    event = st.dataframe(
        _frame(actor, page), key=f"queue_table_{generation}", on_select="rerun", selection_mode="multi-row",
        hide_index=True, width="stretch", height=38 + 35 * min(len(page.rows), 15),  # 15 rows in view, then it scrolls
        column_order=COLUMN_ORDER, column_config=_column_config(),
    )
    selected = [page.rows[i] for i in (event.selection.rows if event else []) if i < len(page.rows)]
    _pager(actor, filt, page, cursors, number)
    _bulk(actor, selected)


def _empty(filt: ReturnQueueFilter) -> None:
    """Nothing to show: good news for the default view, otherwise the filters that exclude everything."""
    untouched = ReturnQueueFilter(sort=filt.sort, descending=filt.descending, sla_hours=filt.sla_hours)
    if filt == untouched:  # the default view is empty: nothing waits, which is good news, not a filter problem
        st.success("No return needs a decision right now. Pick other statuses under Filters to see decided "
                   "returns; new returns arrive from the shop or from the Import page.", icon=":material/done_all:")
        return
    hint = "nothing matches this search and these filters" if filt.search else "nothing matches these filters"
    st.info(f"No returns to show: {hint}. Clear the search or widen the filters.", icon=":material/filter_alt_off:")
    st.text(visible("Filters in force: " + _describe(filt)))  # category names are data: plain text
    if st.button("Refresh", key="queue_refresh", help="Read the queue again"):
        refresh()
        st.rerun()


def _frame(actor: Actor, page: svc.QueuePage) -> pd.DataFrame:
    """The page's rows as the table shows them: a review link first, statuses and the AI's view in words."""
    frame = page.to_frame()
    # Opens in a new tab: `as` keeps the same demo sign-in there (the panel shows a link without it to share).
    frame.insert(0, "open", [f"/returns?return={r.public_id}" for r in page.rows])
    frame["status"] = [label(s) for s in frame["status"]]
    frame["sla_state"] = [say("sla", s) for s in frame["sla_state"]]
    frame["age_hours"] = [fmt.age(h) for h in frame["age_hours"]]
    frame["ai_confidence"] = ["—" if pd.isna(c) else f"{c:.0%}" for c in frame["ai_confidence"]]
    frame["ai_recommendation"] = [say("recommendation", s, empty="Not triaged") for s in frame["ai_recommendation"]]
    frame["reason_code"] = [say("reason", s) for s in frame["reason_code"]]
    return frame


def _column_config() -> dict:
    """The table's column headings and formats (fresh each run: Streamlit may amend what it is given)."""
    return {
        "open": st.column_config.LinkColumn("Open", display_text="Review ↗"),
        "public_id": st.column_config.TextColumn("Return id"),
        "created_at": st.column_config.DatetimeColumn("Asked (UTC)", format="YYYY-MM-DD HH:mm"),
        "age_hours": st.column_config.TextColumn("Waiting", help="How long since the customer asked"),
        "sla_state": "SLA", "status": "Status", "order_id": "Order", "customer_email": "Customer",
        "reason_code": "Reason", "reason_for_return": st.column_config.TextColumn("Customer's words", width="large"),
        "product_category": "Category", "order_value": st.column_config.NumberColumn("Value", format="$%.2f"),
        "risk_score": st.column_config.NumberColumn("Risk", format="%.2f"), "risk_band": "Risk band",
        "ai_recommendation": st.column_config.TextColumn("AI says"),
        "ai_confidence": st.column_config.TextColumn("Confidence", help="— : none was stored with the recommendation"),
        "policy_version_used": "Policy",
    }


def _pager(actor: Actor, filt: ReturnQueueFilter, page: svc.QueuePage, cursors: list, number: int) -> None:
    """Previous / next page, refresh, and the CSV of every matching row."""
    nav = st.columns([1, 1, 1, 3])
    if nav[0].button("← Previous", disabled=number <= 1, key="queue_prev"):
        cursors.pop()
        st.rerun()
    if nav[1].button("Next →", disabled=not page.next_cursor, key="queue_next"):
        cursors.append(page.next_cursor)
        st.rerun()
    if nav[2].button("Refresh", key="queue_refresh", help="Read the queue again"):
        refresh()
        st.rerun()
    if has_session_cookie():  # streamed by the console's own route: any number of rows, constant memory
        nav[3].link_button("Export CSV (all matching rows)", export_link(actor.business_id, filt),
                           disabled=page.total == 0)
    if actor.role not in CAN_QUEUE and not has_session_cookie():  # a viewer signed in by SSO: built on click
        nav[3].download_button("Export CSV (all matching rows)", data=lambda: _csv(actor, filt),
                               file_name="returns.csv", mime="text/csv", key="queue_csv", disabled=page.total == 0)
    elif actor.role in CAN_QUEUE:  # single sign-on sessions have no cookie for the route: a background job
        show_export_job(actor, filt, column=nav[3] if not has_session_cookie() else None, disabled=page.total == 0,
                        streamed_route=has_session_cookie())


def _csv(actor: Actor, filt: ReturnQueueFilter) -> str:
    with unit_of_work(actor) as uow:
        return svc.export_csv(uow, filt)


def _describe(f: ReturnQueueFilter) -> str:
    """The filters in force, in words (the filter panel is often folded away)."""
    parts = ["status: " + (", ".join(label(x).lower() for x in f.statuses) if f.statuses else "any")]
    if f.risk_bands:
        parts.append("risk: " + ", ".join(f.risk_bands))
    if f.categories:
        parts.append("category: " + ", ".join(f.categories))
    if f.reasons:
        parts.append("reason: " + ", ".join(r.replace("_", " ") for r in f.reasons))
    if f.min_value is not None or f.max_value is not None:
        low = fmt.money(f.min_value) if f.min_value is not None else "any"
        high = fmt.money(f.max_value) if f.max_value is not None else "any"
        parts.append(f"value {low} to {high}")
    if f.created_from or f.created_to:
        parts.append(f"asked {f.created_from or '…'} to {f.created_to or '…'}")
    if f.sla_states:
        parts.append("SLA: " + ", ".join(SLA_LABELS[x].lower() for x in f.sla_states))
    if f.recommendations:
        parts.append("AI said: " + ", ".join(say("recommendation", x).lower() for x in f.recommendations))
    if f.decided_by_person:
        parts.append("decided by a person")
    if f.rule_trace:
        parts.append("rule trace: " + ", ".join(f.rule_trace))
    return " · ".join(parts)


def _bulk(actor: Actor, selected: list[svc.QueueRow]) -> None:
    if not selected:
        st.caption("Select rows in the table to approve or deny them together, or to open one for review.")
        return
    st.markdown(f"**{len(selected)} selected**")
    if len(selected) == 1 and st.button("Open the selected return", key="queue_open_one"):
        st.query_params["return"] = str(selected[0].public_id)
        st.rerun()
    may = actor.role in DECIDING_ROLES
    if st.session_state.pop("queue_bulk_note_clear", False):
        st.session_state["queue_bulk_note"] = ""  # the last bulk decision was saved with it
    note = st.text_area("Note for the selected returns", key="queue_bulk_note",
                        placeholder="One note for all of them (needed to deny)")
    c = st.columns([1, 1, 2])
    action = None
    if c[0].button(f"Approve {len(selected)} selected", key="queue_bulk_approve", disabled=not may):
        action = "approve"
    if c[1].button(f"Deny {len(selected)} selected", key="queue_bulk_deny", disabled=not may):
        action = "deny"
    if not action:
        return
    try:
        with unit_of_work(actor) as uow:
            out = decisions.decide_returns(uow, [SeenReturn(id=r.id, version=r.version) for r in selected], action,
                                           note=note)
    except DokaniError as err:
        show_domain_error(err)
        return
    verb = "approved" if action == "approve" else "denied"
    message = f"{count(len(out.decided), 'return')} {verb}."
    details = []
    if out.conflicts:
        pid = {r.id: r.public_id for r in selected}
        message += f" {len(out.conflicts)} left unchanged (listed below)."
        details = [f"{pid.get(c.id, c.public_id)}: {c.message}" for c in out.conflicts]
    flash("warning" if out.conflicts else "success", message, details)
    st.session_state["queue_bulk_note_clear"] = True
    refresh()
    st.rerun()
