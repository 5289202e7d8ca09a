"""The rules model: field-level messages for what an admin can get wrong; unknown keys survive."""
import json

from dokani.policies.rules import PolicyRules, validate_rules


def test_malformed_json_names_line_and_column():
    rules, problems = validate_rules('{\n  "return_window_days": 30,\n  oops\n}')
    assert rules is None
    assert "line 3" in problems["json"] and "column 3" in problems["json"]


def test_each_bad_field_gets_its_own_message():
    _, problems = validate_rules({
        "return_window_days": -5,
        "high_risk_categories": ["spaceships"],
        "risk_thresholds": {"auto_approve_max": 0.9, "auto_deny_min": 0.4},
        "category_overrides": {"electronics": {"restocking_fee_pct": 150}},
    })
    assert "greater than or equal to 0" in problems["return_window_days"]
    assert "spaceships" in problems["high_risk_categories"]
    assert "auto_approve_max must be lower" in problems["risk_thresholds"]
    assert "category_overrides.electronics.restocking_fee_pct" in problems


def test_threshold_order_between_value_thresholds():
    _, problems = validate_rules({"auto_approve_threshold": 900, "auto_escalation_threshold": 100})
    assert "must not exceed" in next(iter(problems.values()))


def test_unknown_keys_are_kept_on_save():
    rules, problems = validate_rules({"return_window_days": 14, "loyalty_bonus": {"tier": "gold"}})
    assert problems == {}
    saved = rules.to_json()
    assert saved["loyalty_bonus"] == {"tier": "gold"} and saved["return_window_days"] == 14
    assert PolicyRules.model_validate(json.loads(json.dumps(saved))).to_json() == saved


def test_category_override_changes_the_window_the_engine_reads():
    rules = PolicyRules(return_window_days=30, category_overrides={"electronics": {"return_window_days": 15, "final_sale": True}})
    assert rules.window_for("electronics") == 15 and rules.window_for("apparel") == 30
    assert rules.is_final_sale("electronics") and not rules.is_final_sale("apparel")
