"""Triage: the deterministic, explainable engine that recommends what to do with a return, and its write-back.

- ``engine``: facts + policy rules -> recommendation, confidence and every rule clause checked (``evaluate``);
  the customer's words read as a reason code (``classify_reason``, ``REASON_KEYWORDS``); the risk score
  (``assess_risk``). No I/O.
- ``facts``: what the engine needs to know about stored returns (order, customer history), read in one query.
- ``history``: the customer's history before each return (earlier returns, in 30 / 90 / 365 days, earlier denials),
  stored beside the return (``return_history``): ``fill_history_counters`` (triage, the migration, the seed), ``computed_sql`` (the definition).
- ``batch``: the engine over many returns (``BatchEvaluator``, ``recommend_many``; ``ClassEvaluator`` over classes
  grouped by Postgres): ``evaluate`` once per class of returns that decide alike; what ``evaluate`` gives each return
  (backtests).
- ``classes``: returns that decide alike under some policies, grouped by Postgres (``read_classes``): the engine's
  reading of each return in SQL, so a backtest never sends every return to Python.
- ``service``: triage stored returns and record what was decided, and why: ``triage_return`` (one),
  ``triage_pending`` (every new return, in batches), ``engine_reading`` (the reading now, never written),
  suspicious patterns opened as security events.
"""
