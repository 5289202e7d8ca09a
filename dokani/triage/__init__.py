"""Triage: the deterministic, explainable engine that recommends what to do with a return, and its write-back.

- ``engine``: facts + policy rules -> recommendation, confidence and every rule clause checked.
- ``facts``: what the engine needs to know about stored returns, read in one query.
- ``service``: triage stored returns and record what was decided, and why.
"""
