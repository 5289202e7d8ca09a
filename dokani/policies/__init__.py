"""Return policies: versioned rules a business triages its returns by.

- ``rules``: the rules model (``policies.rules``), validated, and loading a business's policy.
- ``versions``: the lifecycle (draft, save, validate, schedule, activate, roll back) and computed metrics.
- ``diff``: field-by-field differences between two versions.
- ``backtest``: replay a version over past returns and store what would change.
"""
