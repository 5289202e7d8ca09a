"""JSONB payloads from providers are read leniently: odd values become 'no data', never a crash."""
from dokani.payloads import CallMetrics, CustomerFeedback, parse_events


def test_call_metrics_keep_known_fields_and_tolerate_odd_ones():
    m = CallMetrics.model_validate({"latency_ms_p50": 420, "sentiment": 3.5, "resolution": "maybe", "vendor_x": 1})
    assert m.latency_ms_p50 == 420
    assert m.sentiment == 1.0  # clamped into −1…1
    assert m.resolution is None  # unknown resolution is not shown as if it were measured
    assert m.model_extra == {"vendor_x": 1}


def test_feedback_rating_outside_the_scale_is_no_data():
    assert CustomerFeedback.model_validate({"rating": 9, "comment": "<b>hi</b>"}).rating is None
    assert CustomerFeedback.model_validate({"rating": "4"}).rating == 4


def test_events_skip_non_objects():
    events = parse_events([{"t": 1, "type": "greeting_played"}, "garbage", None])
    assert [e.type for e in events] == ["greeting_played"]
    assert parse_events({"not": "a list"}) == []
