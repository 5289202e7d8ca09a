"""Issue 12, pure entry points: every generated input is accepted or refused with a domain error (never another
exception), what is accepted fits the columns, and the escaping helper leaves no markdown or directive active."""
from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dokani import limits
from dokani.errors import DokaniError
from dokani.lab import suite_files
from dokani.policies.rules import validate_rules
from dokani.returns.csv_import import OPTIONAL, REQUIRED, preview_returns_csv
from dokani.ui.text import md, visible
from tests.hostile import HOSTILE, hostile_text, shown

FAST = settings(max_examples=60)
NOW = datetime(2026, 12, 2, 12, 0)


# --- the escaping helper --------------------------------------------------------------------------------------

DIRECTIVES = [":red[alarm]", ":blue-background[x]", ":material/home:", ":smile:", ":streamlit:", ":small[x]",
              ":color[x]{foreground=red}", ":help[tip]", "$x$", "$$x$$", "[a](https://e.example)", "<b>x</b>",
              "# h", "## h", "h\n===", "- li", "+ li", "* li", "1. li", "1) li", "> q", "| a |\n|---|", "`c`",
              "```\nc\n```", "~~s~~", "**b**", "__b__", "*i*", "_i_", "&lt;", "&#58;", "![i](x.png)", "    code",
              "<https://e.example>", "a  \nb", "\\*", "[^1]", "- [ ] task"]


@pytest.mark.parametrize("source", DIRECTIVES)
def test_md_escapes_every_markdown_and_streamlit_directive(source):
    out = md(source)
    assert shown(out) == source.replace("    ", "    ")  # reads as typed
    unescaped = re.sub(r"\\.", "", out)  # what is left outside backslash escapes
    assert not re.search(r"[*_`\[\]()#+\-.!|<>~$:=&^\\{}]", unescaped), out
    assert not re.search(r":[\w+-]", out), out  # no colon directly before a name: no directive, icon or emoji
    assert not re.search(r"(?m)^ {4}", out)  # no indented code block


@FAST
@given(st.text(alphabet=st.characters(blacklist_characters="\r\t\u00a0\u2060", blacklist_categories=("Cs",)),
               max_size=60))
def test_md_reads_back_as_the_visible_text(value):
    expected = re.sub(r"(?m)^[ ]+", lambda m: m.group(), visible(value))
    assert shown(md(value)) == expected


@pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u2066", "\u200f", "\x1b", "\x07", "\u200b", "\ufeff"])
def test_control_and_bidi_characters_are_shown_not_applied(control):
    out = visible(f"invoice{control}gpj.exe")
    assert control not in out and f"\\u{ord(control):04x}" in out
    assert control not in md(f"x{control}y")


# --- scalars ----------------------------------------------------------------------------------------------------

@FAST
@given(hostile_text)
def test_scalar_parsers_never_raise_and_accept_only_storable_values(raw):
    value, problem = limits.parse_decimal(raw)
    assert (value is None) != (problem is None)
    if value is not None:
        assert math.isfinite(value) and 0 <= value <= limits.MAX_DECIMAL
    whole, problem = limits.parse_int(raw)
    if whole is not None:
        assert limits.INT32[0] <= whole <= limits.INT32[1]
    when, problem = limits.parse_timestamp(raw, not_future=True, now=NOW)
    if when is not None:
        assert when.tzinfo is None and limits.EARLIEST <= when.date() <= limits.LATEST and when <= NOW + limits.CLOCK_SKEW


def test_timestamps_with_an_offset_are_stored_in_utc():
    assert limits.parse_timestamp("2026-01-01T10:00:00+05:00")[0] == datetime(2026, 1, 1, 5, 0)
    assert limits.parse_timestamp("0001-01-01T00:00:00+05:00")[1]  # refused, not OverflowError
    assert limits.parse_timestamp("9999-12-31T23:59:59-05:00")[1]
    assert limits.parse_timestamp("2999-01-01", not_future=True)[1]


@FAST
@given(hostile_text)
def test_one_name_limit(name):
    problem = limits.name_problem(name.strip())
    if problem is None:
        assert 1 <= len(name.strip()) <= limits.NAME_MAX and not set("{}[]<>*`$\\\x00") & set(name)


# --- the CSV importer -------------------------------------------------------------------------------------------

cells = st.one_of(hostile_text, st.sampled_from(["A-1", "a@b.example", "broken", "12.50", "3", "home",
                                                  "2026-11-20 09:15", "https://cdn.example/p.jpg"]))


@st.composite
def csv_files(draw):
    columns = draw(st.lists(st.sampled_from(REQUIRED + OPTIONAL + ("junk",)), min_size=1, max_size=9))
    rows = draw(st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns) + 1), max_size=6))
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(columns)
    w.writerows(rows)
    text = out.getvalue()
    if draw(st.booleans()):
        text = text.replace('"', "", draw(st.integers(0, 3)))  # broken quoting too
    return text.encode("utf-8", "surrogatepass")


@FAST
@given(csv_files())
def test_the_importer_checks_everything_and_accepts_only_storable_rows(data):
    preview = preview_returns_csv(data, now=NOW)  # never raises
    assert preview.ok == (not preview.issues and bool(preview.rows))
    orders = [r.order_id for r in preview.rows]
    assert len(orders) == len(set(orders))  # one return per order and file
    for r in preview.rows:
        for text in (r.order_id, r.customer_email, r.reason_for_return, r.product_category or "", *r.evidence_urls):
            assert limits.text_problem(text) is None
        assert r.order_value is None or (math.isfinite(r.order_value) and r.order_value >= 0)
        assert r.days_since_purchase is None or 0 <= r.days_since_purchase <= 36_500
        assert r.created_at is None or (limits.EARLIEST <= r.created_at.date() and r.created_at <= NOW + limits.CLOCK_SKEW)
    assert list(csv.reader(io.StringIO(preview.problems_csv())))[1:] == [
        [str(i.line), i.column, i.problem] for i in preview.issues]


def test_every_problem_of_every_line_is_reported():
    data = ("order_id,customer_email,reason_for_return,order_value,created_at\n"
            "A,nope,,nan,0001-01-01T00:00:00+05:00\n"
            "A,a@b.example,ok,1e400,9999-12-31\n"
            "B,b@b.example,ok\x00,inf,2026-01-01\n").encode()
    preview = preview_returns_csv(data, now=NOW)
    got = {(i.line, i.column) for i in preview.issues}
    assert got == {(2, "customer_email"), (2, "reason_for_return"), (2, "order_value"), (2, "created_at"),
                   (3, "order_value"), (3, "created_at"), (3, "order_id"), (4, "reason_for_return"), (4, "order_value")}
    assert not preview.rows and not preview.ok


# --- structured documents -----------------------------------------------------------------------------------------

HOSTILE_DOCUMENTS = [
    "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
    "[" * 3000 + "]" * 3000, '{"a":' * 3000 + "1" + "}" * 3000, "- " * 500 + "x", "&a [*a]", "&a {k: *a}",
    "suite: x\nscenarios: [{name: a, turns: [{say: hi}], orders: [{order_value: " + "9" * 5000 + "}]}]",
    "suite: x\nscenarios: [{name: a, turns: [{say: hi}], orders: [{order_value: .nan}]}]",
    '{"suite": "x", "scenarios": [{"name": "a", "turns": [{"say": "hi\\u0000"}]}]}',
    "suite: 2001-02-30\nscenarios: []", "? [a, b]\n: c", "!!python/object:os.system ls", "suite: !!binary AAAA",
    "\x00", "\ud800", "%YAML 9.9\n---\nx", "---\na\n---\nb", "suite: x\nscenarios: [{name: a, turns: [{say: hi}]}]" + " " * 10,
]


@pytest.mark.parametrize("document", HOSTILE_DOCUMENTS)
def test_hostile_suite_documents_are_refused_with_a_line(document):
    try:
        suite_files.parse_suite(document, "s.yaml")
    except suite_files.SuiteFileError as err:
        assert err.lines and all(line.startswith("s.yaml:") for line in err.lines)


yamlish = st.recursive(
    st.one_of(hostile_text, st.integers(), st.floats(), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(hostile_text, inner, max_size=3)),
    max_leaves=12,
)


@FAST
@given(st.one_of(yamlish.map(lambda d: json.dumps({"suite": "s", "scenarios": [{"name": "n", "turns": [{"say": d}]}]})),
                 yamlish.map(json.dumps), hostile_text))
def test_any_suite_text_is_a_suite_or_a_suite_file_error(document):
    try:
        suite = suite_files.parse_suite(document, "s.json")
    except suite_files.SuiteFileError:
        return
    assert not limits.tree_problems(suite.model_dump(mode="json"))


@FAST
@given(st.one_of(yamlish.map(lambda d: json.dumps({"return_window_days": 30, "x_extra": d}, allow_nan=True)),
                 st.sampled_from(['{"auto_approve_threshold": Infinity}', '{"auto_approve_threshold": NaN}',
                                  '{"auto_approve_threshold": 1e999}', '{"return_window_days": ' + "9" * 5000 + "}",
                                  '{"a":' * 2000 + "1" + "}" * 2000, '{"x": "\\u0000"}', '{"x": "\\ud800"}']),
                 hostile_text))
def test_any_policy_json_is_rules_or_field_problems(text):
    model, problems = validate_rules(text)  # never raises
    assert (model is None) == bool(problems)
    if model is not None:
        assert not limits.tree_problems(model.to_json())
        json.dumps(model.to_json(), allow_nan=False)  # storable as JSONB


def test_non_finite_policy_numbers_are_refused():
    for text in ('{"auto_approve_threshold": Infinity}', '{"auto_escalation_threshold": 1e999}',
                 '{"risk_thresholds": {"auto_approve_max": NaN}}'):
        model, problems = validate_rules(text)
        assert model is None and problems


def test_domain_errors_only():
    for raw in HOSTILE:
        try:
            limits.check_text(raw, "x")
            limits.check_name(raw, "x", "name")
        except DokaniError:
            pass
