"""Triage: the deterministic, explainable engine that recommends what to do with a return, and its write-back.

- ``engine``: facts + policy rules -> recommendation, confidence and every rule clause checked (``evaluate``);
  the customer's words read as a reason code (``classify_reason``, ``REASON_KEYWORDS``); the risk score
  (``assess_risk``). No I/O.
- ``facts``: what the engine needs to know about stored returns (order, customer history), read in one query.
- ``service``: triage stored returns and record what was decided, and why: ``triage_return`` (one),
  ``triage_pending`` (every new return, in batches), ``engine_reading`` (the reading now, never written),
  suspicious patterns opened as security events.
"""
