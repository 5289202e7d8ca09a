"""Policies page widgets, one module per part of the page:

- ``listing``: what the page reads (due schedules applied, metrics refreshed), the version list, the Version picker.
- ``rules_tab``: key figures and the rules of a version; the draft editor (validate, save, delete); new draft from it.
- ``editor``: the rules as a read-only table, as a form and as JSON; usage and compliance as labelled rows.
- ``diff_tab``: two versions' rules side by side.
- ``backtest``: the Backtest tab: period, baseline, a run with progress, what would change.
- ``activate_tab``: activate now, schedule, cancel a schedule, roll back.
- ``history_tab``: every period a version was in force, its audit timeline, lineage, usage and compliance.
- ``actions``: run one service call with flash messages and field problems; session keys shared by the tabs.
"""
