"""Returns: the return requests a shop receives, and the people who decide them.

- ``status``: the status vocabulary and its legal transitions, and who may decide.
- ``queue``: queue filters, keyset pages, KPIs, CSV export, the review panel's data, decisions.
- ``csv_import``: import returns from a shop's CSV export, checked whole and written whole.
"""
