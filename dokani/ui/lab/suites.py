"""Chat test lab, tab "Scenario suites": run a suite against a persona and a policy version; pass-rate history."""
from __future__ import annotations

import functools

import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.lab import sessions as chat_lab
from dokani.lab import personas
from dokani.lab import suite_files
from dokani.lab import suites as scenarios
from dokani.errors import DokaniError
from dokani.jobs import enqueue
from dokani.ui import charts
from dokani.ui import format as fmt
from dokani.ui.errors import show_domain_error
from dokani.ui.jobs.panel import show_job
from dokani.ui.selection import hold_selection
from dokani.ui.text import md, visible

LAST_RUN = "chat_suite_last_run"


@functools.lru_cache(maxsize=16)
def _parsed(content: str, name: str) -> suite_files.Suite:
    """A suite file read once per text: the tab shows it on every rerun, and parsing YAML with line numbers for
    every problem costs tens of milliseconds. (A file that fails raises each time: errors are not kept.)"""
    return suite_files.parse_suite(content, name)


def _choose_suite() -> tuple[suite_files.Suite, str, str] | None:
    """The suite picked or uploaded, with its text and file name (a job carries them to the worker)."""
    examples = suite_files.example_suites()
    source = st.radio("Suite", ["Example suite", "Upload a file"], horizontal=True, key="suite_source",
                      label_visibility="collapsed")
    if source == "Example suite":
        if not examples:
            st.info("No example suites in examples/suites/.")
            return None
        path = st.selectbox("Example suite", examples, format_func=lambda p: p.name, key="suite_example")
        content, name = path.read_text(encoding="utf-8"), path.name
    else:
        upload = st.file_uploader("Suite file (YAML or JSON)", type=["yaml", "yml", "json"], key="suite_upload")
        if upload is None:
            st.caption("The format is described in docs/scenario_suites.md.")
            return None
        content, name = upload.getvalue().decode("utf-8", errors="replace"), upload.name
    try:
        suite = _parsed(content, name)
    except suite_files.SuiteFileError as err:
        st.error(f"{md(name)} cannot be run: fix these lines and upload it again.", icon=":material/error:")
        st.code("\n".join(err.lines), language=None)
        return None
    st.caption(f"{md(suite.suite)}: {len(suite.scenarios)} scenarios, "
               f"{sum(len(s.turns) for s in suite.scenarios)} customer turns")
    return suite, content, name


def _show_run(summary: scenarios.SuiteRunSummary) -> None:
    verdict = "All scenarios passed" if summary.passed_all else f"{summary.failed} of {summary.scenarios} scenarios failed"
    (st.success if summary.passed_all else st.error)(
        f"{verdict} · persona {md(summary.persona_name)} · policy {md(summary.policy_version)}",
        icon=":material/check_circle:" if summary.passed_all else ":material/cancel:")
    st.dataframe(scenarios.results_frame(summary), hide_index=True, width="stretch")
    for r in summary.results:
        with st.expander(md(r.name), icon=":material/check_circle:" if r.passed else ":material/cancel:",
                         expanded=not r.passed and len(summary.results) <= 10):
            for problem in ([r.error] if r.error else r.failures):
                st.text(visible(problem))
            for t in r.turns:
                with st.chat_message("user"):
                    st.text(visible(t.say))
                with st.chat_message("assistant"):
                    st.text(visible(t.reply))
                    st.caption(f"intent {t.intent} · triage {t.triage or '—'}"
                               + (f" · test return #{t.return_opened.get('id')} {t.return_opened.get('status')}"
                                  if t.return_opened else ""))


def show(actor: Actor) -> None:
    with unit_of_work(actor) as uow:
        people = personas.list_personas(uow)
        versions = chat_lab.policy_options(uow)
    if not people or not versions:
        st.info("Suites need a persona and a policy version; this business has "
                + ("no persona yet." if not people else "no return policy yet."))
        return
    by_id = {str(p.id): p for p in people}
    c1, c2 = st.columns(2)
    hold_selection("suite_persona")  # labels carry persona names and policy states, which change
    hold_selection("suite_policy")
    persona_id = c1.selectbox("Persona", list(by_id), format_func=lambda i: by_id[i].label, key="suite_persona")
    version = c2.selectbox("Policy version", [v.version for v in versions],
                           format_func=lambda v: next(o.label for o in versions if o.version == v), key="suite_policy")
    with unit_of_work(actor) as uow:
        latest = scenarios.latest_suite_result(uow, version)
    if latest is None:
        st.caption(f"No suite has been run against {md(version)} yet.")
    else:
        st.caption(f"Latest run against {md(version)}: {latest.passed} of {latest.scenarios} scenarios passed "
                   f"({md(latest.suite or 'unnamed suite')}, persona {md(latest.persona_name or 'unknown')}, "
                   f"{fmt.when(latest.started_at)}).")
    chosen = _choose_suite()
    _run_button(actor, chosen, by_id[persona_id], version)
    if chosen is not None:
        show_job(actor, "suite_run", enqueue.suite_lock(persona_id, version, chosen[0].suite), unit="scenarios",
                 done_message=lambda job: f"Suite run finished: {job.result['passed']} of "
                                          f"{job.result['scenarios']} scenarios passed.",
                 on_done=lambda job: st.session_state.__setitem__(LAST_RUN, job.result["run_id"]))
    run_id = st.session_state.get(LAST_RUN)
    if run_id:
        with unit_of_work(actor) as uow:
            try:
                _show_run(scenarios.suite_run(uow, run_id))
            except DokaniError:
                st.session_state.pop(LAST_RUN, None)
    _pass_rate_chart(actor, by_id[persona_id])


def _run_button(actor: Actor, chosen, persona: personas.Persona, version: str) -> None:
    """Queue the suite run as a background job; its progress shows below while a worker runs it."""
    can_run = actor.role in chat_lab.LAB_ROLES
    if st.button("Run suite", type="primary", disabled=chosen is None or not can_run, key="suite_run"):
        suite, content, name = chosen
        try:
            job, created = enqueue.queue_suite_run(actor, suite_text=content, file_name=name, suite_name=suite.suite,
                                                   persona_id=persona.id, policy_version=version)
        except DokaniError as err:
            show_domain_error(err)
            return
        if not created and job.live:
            st.info(f"{md(suite.suite)} is already {job.state} against {md(version)}; its progress shows below.")


def _pass_rate_chart(actor: Actor, persona: personas.Persona) -> None:
    st.subheader(f"Pass rate of {md(persona.config_name)}")
    with unit_of_work(actor) as uow:
        history = scenarios.pass_rate_history(uow, persona.id)
    if history.empty:
        st.info("No suite runs for this persona yet: run a suite above and its pass rate appears here, one point "
                "per run, a line per policy version.", icon=":material/info:")
        return
    history["pass rate (%)"] = (history["pass_rate"] * 100).round(1)
    fig = charts.line(history, "started_at", "pass rate (%)", "policy_version", hover=["suite", "scenarios", "passed"],
                      height=300, layout={**charts.TIGHT, "yaxis": {"range": [0, 105]},
                                          "legend": {"title": {"text": "policy"}}, "xaxis": {"title": {"text": ""}}})
    st.plotly_chart(fig, width="stretch")
