"""The policies page, driven with AppTest against a seeded database of the test's own."""
from __future__ import annotations

from dokani.labels import say


import psycopg

from db.demo import business
from dokani.jobs.worker import work_until_idle
from tests.app.conftest import no_exceptions, open_page

ATLAS = business("atlas").business_id


def _rows(url, sql, *params):
    with psycopg.connect(url) as c:
        return c.execute(sql, params).fetchall()


def _pick(at, version_name: str):
    box = at.selectbox(key="policy_selected")
    index = next(i for i, label in enumerate(box.options) if label.startswith(version_name + " ·"))
    return box.select_index(index).run()


def test_the_version_list_shows_every_version_with_its_state(seeded_db):
    at = open_page("policies")
    no_exceptions(at)
    table = at.dataframe[0].value
    expected = _rows(seeded_db, "SELECT version, state FROM policies WHERE business_id = %s", ATLAS)
    assert sorted(zip(table["version"], table["state"].str.split().str[-1])) == sorted(expected)
    active = _rows(seeded_db, "SELECT id FROM policies WHERE business_id = %s AND is_active", ATLAS)[0][0]
    assert at.selectbox(key="policy_selected").value == active  # opens on the active version


def test_draft_from_active_edit_window_save_and_activate(fresh_db):
    at = open_page("policies", slug="admin")
    no_exceptions(at)
    # the active version is selected by default and is read-only
    assert any("read-only" in c.value for c in at.caption)
    at.button(key=[b.key for b in at.button if b.key and b.key.startswith("new_draft_")][0]).click().run()
    no_exceptions(at)
    assert any("created from" in s.value for s in at.success)
    draft_id, name, lock = _rows(fresh_db, "SELECT id, version, lock_version FROM policies WHERE business_id = %s "
                                 "AND state = 'draft' ORDER BY id DESC LIMIT 1", ATLAS)[0]
    key = f"pe_{draft_id}_{lock}"
    at.number_input(key=f"{key}_window").set_value(-5).run()
    at.button(key=f"{key}_save").click().run()
    no_exceptions(at)
    assert any("Return window (days)" in e.value for e in at.error)  # field-level message, by its label
    assert _rows(fresh_db, "SELECT lock_version FROM policies WHERE id = %s", draft_id)[0][0] == lock
    at.number_input(key=f"{key}_window").set_value(40).run()
    at.button(key=f"{key}_save").click().run()
    no_exceptions(at)
    assert _rows(fresh_db, "SELECT rules->>'return_window_days' FROM policies WHERE id = %s", draft_id)[0][0] == "40"
    at.button(key="act_now").click().run()
    no_exceptions(at)
    active = _rows(fresh_db, "SELECT id, rules->>'return_window_days' FROM policies "
                   "WHERE business_id = %s AND is_active", ATLAS)
    assert active == [(draft_id, "40")]


def test_a_stale_save_is_refused_with_a_clear_message(fresh_db):
    at = open_page("policies", slug="admin")
    draft_id, name, lock = _rows(fresh_db, "SELECT id, version, lock_version FROM policies WHERE business_id = %s "
                                 "AND state = 'draft' ORDER BY id LIMIT 1", ATLAS)[0]
    at = _pick(at, name)
    no_exceptions(at)
    # Another admin saves the same draft meanwhile.
    with psycopg.connect(fresh_db) as c:
        c.execute("UPDATE policies SET lock_version = lock_version + 1, "
                  "rules = jsonb_set(rules, '{return_window_days}', '21') WHERE id = %s", (draft_id,))
    key = f"pe_{draft_id}_{lock}"
    at.number_input(key=f"{key}_window").set_value(99).run()
    at.button(key=f"{key}_save").click().run()
    no_exceptions(at)
    assert any("nothing was overwritten" in w.value for w in at.warning)
    assert _rows(fresh_db, "SELECT rules->>'return_window_days' FROM policies WHERE id = %s", draft_id)[0][0] == "21"
    assert at.number_input(key=f"{key}_window").value == 99  # the user's edit is still there


def test_malformed_json_is_refused_field_by_field(fresh_db):
    at = open_page("policies", slug="admin")
    draft_id, name, lock = _rows(fresh_db, "SELECT id, version, lock_version FROM policies WHERE business_id = %s "
                                 "AND state = 'draft' ORDER BY id LIMIT 1", ATLAS)[0]
    at = _pick(at, name)
    key = f"pe_{draft_id}_{lock}"
    at.segmented_control(key=f"{key}_mode").set_value("JSON").run()
    at.text_area(key=f"{key}_json").set_value('{"return_window_days": 30,').run()
    at.button(key=f"{key}_save").click().run()
    no_exceptions(at)
    assert any("malformed JSON" in e.value for e in at.error)


def test_diff_shows_changed_fields_side_by_side(seeded_db):
    at = open_page("policies")
    names = dict(_rows(seeded_db, "SELECT state, version FROM policies WHERE business_id = %s", ATLAS))
    at = _pick(at, names["draft"])
    frame = next(d.value for d in at.dataframe if "field" in d.value.columns and "change" in d.value.columns)
    assert list(frame.columns)[1:3] == [names["active"], names["draft"]]
    assert "return_window_days" in set(frame["field"])


def test_backtest_runs_shows_changes_and_is_listed(fresh_db):
    at = open_page("policies", slug="admin")
    names = dict(_rows(fresh_db, "SELECT state, version FROM policies WHERE business_id = %s", ATLAS))
    at = _pick(at, names["draft"])
    assert at.selectbox(key="bt_period").value == "Last 90 days"  # the default: quick on a large business
    at.session_state["policy_tab"] = "Backtest"
    at.selectbox(key="bt_period").set_value("All past returns").run()
    at.button(key="bt_run").click().run()
    no_exceptions(at)
    # Queued, not run in the page request: the page says it waits for a worker.
    assert any("waiting for a worker" in i.value for i in at.info)
    assert _rows(fresh_db, "SELECT count(*) FROM policy_backtests")[0][0] == 0
    at.button(key="bt_run").click().run()  # asked again while queued: still one job
    assert any("already queued" in i.value for i in at.info)
    assert _rows(fresh_db, "SELECT count(*) FROM background_jobs")[0][0] == 1

    work_until_idle()
    at.run()
    no_exceptions(at)
    assert at.session_state["policy_tab"] == "Backtest"  # the page stays on the tab the backtest ran in
    assert any("Backtest stored" in s.value for s in at.success)
    replayed = next(m.value for m in at.metric if m.label == "Returns replayed")
    total = _rows(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s", ATLAS)[0][0]
    assert replayed == f"{total:,}"
    stored = _rows(fresh_db, "SELECT returns_evaluated, outcomes_changed FROM policy_backtests")
    assert stored and stored[0][0] == total
    table = at.dataframe[0].value
    row = table[table["version"] == names["draft"]].iloc[0]
    assert row["latest backtest"].startswith(f"{stored[0][1]} of {total}")


def test_a_running_backtest_shows_its_progress_and_a_failed_one_its_reason_and_a_retry(fresh_db):
    at = open_page("policies", slug="admin")
    draft = _rows(fresh_db, "SELECT id, version FROM policies WHERE business_id = %s AND state = 'draft'", ATLAS)[0]
    at = _pick(at, draft[1])
    at.session_state["policy_tab"] = "Backtest"
    at.button(key="bt_run").click().run()
    job_id = _rows(fresh_db, "SELECT id FROM background_jobs")[0][0]
    with psycopg.connect(fresh_db, autocommit=True) as c:  # a worker has replayed 120 of 480 returns
        c.execute("UPDATE background_jobs SET state = 'running', attempts = 1, progress_done = 120, "
                  "progress_total = 480 WHERE id = %s", (job_id,))
    at.run()
    no_exceptions(at)
    bar = at.get("progress")[0]
    assert "120 of 480 returns replayed" in bar.proto.text and abs(bar.proto.value - 25) <= 1
    with psycopg.connect(fresh_db, autocommit=True) as c:  # that worker died; meanwhile the draft's rules broke
        c.execute("UPDATE background_jobs SET state = 'queued' WHERE id = %s", (job_id,))
        c.execute("UPDATE policies SET rules = rules || '{\"return_window_days\": -5}' WHERE id = %s", (draft[0],))
    work_until_idle()
    at.run()
    no_exceptions(at)
    assert any("failed" in e.value and "engine cannot evaluate" in e.value for e in at.error)
    at.button(key=f"job_retry_{job_id}").click().run()
    no_exceptions(at)
    assert _rows(fresh_db, "SELECT error FROM background_jobs ORDER BY id")[1:] == [(None,)]
    assert _rows(fresh_db, "SELECT state, retry_of FROM background_jobs ORDER BY id") == [("failed", None),
                                                                                       ("queued", job_id)]
    assert any("waiting for a worker" in i.value for i in at.info)


def test_reviewers_see_no_editing_controls(seeded_db):
    at = open_page("policies", slug="reviewer")
    no_exceptions(at)
    assert not [b for b in at.button if b.key and (b.key.startswith("new_draft_") or b.key.startswith("act_"))]
    assert any("only owners and admins" in c.value for c in at.caption)


def test_roll_back_to_a_retired_version(fresh_db):
    at = open_page("policies", slug="owner")
    retired = _rows(fresh_db, "SELECT id, version FROM policies WHERE business_id = %s AND state = 'retired'", ATLAS)[0]
    at = _pick(at, retired[1])
    at.button(key="act_rollback").click().run()
    no_exceptions(at)
    assert _rows(fresh_db, "SELECT id FROM policies WHERE business_id = %s AND is_active", ATLAS) == [(retired[0],)]
    assert any("Rolled back" in s.value for s in at.success)
    assert _rows(fresh_db, "SELECT action FROM audit_log WHERE entity = 'policy' ORDER BY id DESC LIMIT 1") == \
        [("policy.rolled_back",)]


def test_schedule_a_draft_for_later(fresh_db):
    at = open_page("policies", slug="admin")
    draft = _rows(fresh_db, "SELECT id, version FROM policies WHERE business_id = %s AND state = 'draft'", ATLAS)[0]
    at = _pick(at, draft[1])
    at.button(key="act_schedule").click().run()
    no_exceptions(at)
    assert _rows(fresh_db, "SELECT state FROM policies WHERE id = %s", draft[0]) == [("scheduled",)]


def test_the_optional_suite_gate_follows_the_latest_suite_run(fresh_db):
    from db.uow import unit_of_work
    from dokani.lab.suites import latest_suite_result
    from tests.conftest import actor_for

    draft = _rows(fresh_db, "SELECT id, version FROM policies WHERE business_id = %s AND state = 'draft'", ATLAS)[0]
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        run = latest_suite_result(uow, draft[1])
    may_activate = bool(run and run.passed_all)
    at = open_page("policies", slug="admin")
    at = _pick(at, draft[1])
    at.checkbox(key="act_suite").check().run()
    at.button(key="act_now").click().run()
    no_exceptions(at)
    state = _rows(fresh_db, "SELECT state FROM policies WHERE id = %s", draft[0])[0][0]
    assert state == ("active" if may_activate else "draft")
    if not may_activate:
        assert any("suite" in e.value for e in at.error)


def test_read_only_rules_are_labelled_like_the_editor(seeded_db):
    at = open_page("policies")
    no_exceptions(at)
    window, reasons = _rows(seeded_db, "SELECT rules->>'return_window_days', rules->'acceptable_reasons' FROM policies "
                                       "WHERE business_id = %s AND is_active", ATLAS)[0]
    frame = next(d.value for d in at.dataframe if list(d.value.columns) == ["setting", "value"])
    shown = dict(zip(frame["setting"], frame["value"]))
    assert shown["Return window (days)"] == window
    # every reason, in words, not a truncated JSON list of codes
    assert shown["Acceptable reasons"] == ", ".join(say("reason", r) for r in reasons)
    assert shown["Auto-approve up to (order value, $)"].startswith("$")  # money as money


def test_history_shows_usage_computed_from_returns_or_says_there_is_none(seeded_db):
    at = open_page("policies")
    used = _rows(seeded_db, "SELECT count(*) FROM return_requests r JOIN policies p ON p.business_id = r.business_id "
                            "AND p.version = r.policy_version_used WHERE p.business_id = %s AND p.is_active", ATLAS)[0][0]
    usage = next(d.value for d in at.dataframe if "usage" in d.value.columns)
    assert dict(zip(usage["usage"], usage["value"]))["Returns triaged under it"] == f"{used:,}"
    draft = _rows(seeded_db, "SELECT version FROM policies WHERE business_id = %s AND state = 'draft'", ATLAS)[0][0]
    at = _pick(at, draft)
    no_exceptions(at)
    assert any("No return has been triaged under this version yet" in i.value for i in at.info)
    assert not [d for d in at.dataframe if "usage" in d.value.columns]


def test_validate_shows_the_problem_of_what_is_typed_now(fresh_db):
    at = open_page("policies", slug="admin")
    draft_id, name, lock = _rows(fresh_db, "SELECT id, version, lock_version FROM policies WHERE business_id = %s "
                                 "AND state = 'draft' ORDER BY id LIMIT 1", ATLAS)[0]
    at = _pick(at, name)
    key = f"pe_{draft_id}_{lock}"
    at.number_input(key=f"{key}_window").set_value(-5).run()
    at.button(key=f"{key}_validate").click().run()
    assert any("Return window (days)" in e.value for e in at.error)
    at.segmented_control(key=f"{key}_mode").set_value("JSON").run()
    at.text_area(key=f"{key}_json").set_value('{"return_window_days": 30,').run()
    at.button(key=f"{key}_validate").click().run()
    no_exceptions(at)
    errors = [e.value for e in at.error]
    assert any("malformed JSON" in e for e in errors)
    assert not any("Return window (days)" in e for e in errors)  # the earlier form problem is gone
    at.text_area(key=f"{key}_json").set_value('{"return_window_days": 30}').run()
    at.button(key=f"{key}_validate").click().run()
    assert any("Valid" in s.value for s in at.success) and not at.error
    assert _rows(fresh_db, "SELECT lock_version FROM policies WHERE id = %s", draft_id)[0][0] == lock  # nothing saved


def test_the_active_version_says_how_to_roll_back(seeded_db):
    at = open_page("policies", slug="admin")
    retired = _rows(seeded_db, "SELECT version FROM policies WHERE business_id = %s AND state = 'retired'", ATLAS)
    assert any("roll back" in c.value and retired[0][0].replace(".", "\\.") in c.value for c in at.caption)


def _compare_with(at) -> tuple[str, list[str]]:
    box = next(s for s in at.selectbox if s.label == "Compare with")
    return box.options[box.index], list(box.options)


def test_backtest_compares_with_the_active_version_whichever_version_is_picked(seeded_db):
    names = dict(_rows(seeded_db, "SELECT state, version FROM policies WHERE business_id = %s", ATLAS))
    at = open_page("policies", slug="admin")  # opens on the active version
    chosen, options = _compare_with(at)
    assert chosen == f"{names['retired']} (retired)"  # the active one is compared with the one it replaced
    assert not [o for o in options if o.startswith(names["active"] + " (")]
    for name in (names["retired"], names["draft"], names["retired"]):
        at = _pick(at, name)
        no_exceptions(at)
        chosen, options = _compare_with(at)
        assert chosen == f"{names['active']} (active)", name
        assert not [o for o in options if o.startswith(name + " (")]  # never the version under test


def test_reading_the_policies_page_writes_nothing_and_computes_no_metrics(fresh_db):
    """The page reads the metrics the seed (then the worker) stored and says how old they are; a visit never
    aggregates the business's returns, nor writes the audit log."""
    before = _rows(fresh_db, "SELECT count(*) FROM audit_log")[0][0]
    computed = _rows(fresh_db, "SELECT id, metrics_computed_at FROM policies WHERE business_id = %s ORDER BY id", ATLAS)
    names = dict(_rows(fresh_db, "SELECT state, version FROM policies WHERE business_id = %s", ATLAS))
    at = open_page("policies", slug="reviewer")
    no_exceptions(at)
    assert any(c.value.startswith("Impact scores and return counts as of") for c in at.caption)
    at = _pick(at, names["draft"])
    no_exceptions(at)
    at = open_page("policies", slug="admin")
    no_exceptions(at)
    assert _rows(fresh_db, "SELECT count(*) FROM audit_log")[0][0] == before
    assert _rows(fresh_db, "SELECT id, metrics_computed_at FROM policies WHERE business_id = %s ORDER BY id",
                 ATLAS) == computed
    assert all(at_ is not None for _, at_ in computed)  # the seed computed them
    stored = _rows(fresh_db, "SELECT usage_statistics->>'returns' FROM policies WHERE business_id = %s AND is_active",
                   ATLAS)[0][0]
    assert stored is not None and int(stored) > 0


def test_metrics_not_computed_yet_are_said_to_be_missing(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("UPDATE policies SET metrics_computed_at = NULL WHERE business_id = %s", (ATLAS,))
    at = open_page("policies", slug="viewer")
    no_exceptions(at)
    assert any("not computed yet" in c.value for c in at.caption)
    assert not any("as of" in c.value for c in at.caption)


def test_a_roll_back_keeps_the_effective_date_and_the_history_tab_lists_every_period(fresh_db):
    policy_id, name, effective = _rows(fresh_db, "SELECT id, version, effective_date FROM policies "
                                       "WHERE business_id = %s AND state = 'retired'", ATLAS)[0]
    at = _pick(open_page("policies", slug="owner"), name)
    at.button(key="act_rollback").click().run()
    no_exceptions(at)
    assert _rows(fresh_db, "SELECT state, effective_date, retired_at FROM policies WHERE id = %s", policy_id) == \
        [("active", effective, None)]
    periods = next(d.value for d in at.dataframe if "in force from" in d.value.columns)
    assert list(periods["how"]) == ["rolled back to", "recorded (before the console kept history)"]
    assert periods["until"].iloc[0] == "now (active)"
    assert periods["in force from"].iloc[-1] == f"{effective:%Y-%m-%d %H:%M}"
