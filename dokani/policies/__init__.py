"""Return policies: versioned rules a business triages its returns by.

- ``rules``: the rules model (``policies.rules``), validated, and loading a business's policy.
- ``versions``: the ``PolicyVersion`` read model: listing, every period a version was in force, the active
  version, the one in force now, a version's audit timeline.
- ``lifecycle``: draft, save, validate, schedule, activate, roll back (one audited transaction each).
- ``names``: the next free version name, and the checks a name passes.
- ``suite_gate``: the optional "latest scenario suite passed" gate on activation.
- ``metrics``: impact score, usage and compliance computed from the returns; ``METRICS_DOC`` has the formulas.
- ``diff``: field-by-field differences between two versions.
- ``backtest``: replay a version over past returns and store what would change.
"""
