"""Calls page widgets:

- ``report``: the filters (period, provider, type, status), what the page reads for them, the figures, the
  charts, the paged call list and the call picker.
- ``detail``: one call: provider ids, metrics, events, customer feedback and the transcript (as plain text).
"""
