"""Field-by-field diffs of policy rules."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dokani.policies.diff import diff_frame, diff_rules, flatten


def test_nested_fields_are_compared_by_dotted_path():
    left = {"return_window_days": 30, "risk_thresholds": {"auto_approve_max": 0.3, "auto_deny_min": 0.8},
            "category_overrides": {"electronics": {"final_sale": False}}}
    right = {"return_window_days": 45, "risk_thresholds": {"auto_approve_max": 0.3, "auto_deny_min": 0.9},
             "category_overrides": {"electronics": {"final_sale": True}, "toys": {"return_window_days": 7}}}
    got = {d.field: (d.change, d.left, d.right) for d in diff_rules(left, right)}
    assert got == {
        "return_window_days": ("changed", 30, 45),
        "risk_thresholds.auto_deny_min": ("changed", 0.8, 0.9),
        "category_overrides.electronics.final_sale": ("changed", False, True),
        "category_overrides.toys.return_window_days": ("added", None, 7),
    }


def test_list_changes_name_the_entries():
    [d] = diff_rules({"acceptable_reasons": ["damaged", "late_delivery"]},
                     {"acceptable_reasons": ["damaged", "changed_mind"]})
    assert d.detail == "added changed_mind; removed late_delivery"


def test_unknown_keys_show_as_removed_when_only_left_has_them():
    [d] = diff_rules({"legacy": 1}, {})
    assert (d.field, d.change) == ("legacy", "removed")


def test_int_and_float_of_the_same_value_are_the_same_but_bool_is_not_int():
    assert diff_rules({"a": 30}, {"a": 30.0}) == []
    assert [d.change for d in diff_rules({"a": 1}, {"a": True})] == ["changed"]


def test_side_by_side_frame_has_a_column_per_version():
    frame = diff_frame({"a": 1}, {"a": 2}, "v1", "v2")
    assert list(frame.columns) == ["field", "v1", "v2", "change", "detail"]
    assert frame.iloc[0].tolist() == ["a", "1", "2", "changed", ""]


leaves = st.one_of(st.integers(-5, 5), st.booleans(), st.text(max_size=3), st.lists(st.sampled_from("abc"), max_size=3))
rules = st.recursive(st.dictionaries(st.sampled_from(["x", "y", "z"]), leaves, max_size=3),
                     lambda inner: st.dictionaries(st.sampled_from(["p", "q", "x"]), inner, min_size=1, max_size=2),
                     max_leaves=6)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(rules)
def test_a_version_never_differs_from_itself(r):
    assert diff_rules(r, r) == []


@FAST
@given(rules, rules)
def test_every_flattened_field_is_accounted_for(a, b):
    shown = {d.field for d in diff_rules(a, b, include_same=True)}
    assert shown == set(flatten(a)) | set(flatten(b))
