"""Calls page widgets:

- ``report``: the filters (period, provider, type, status, persona, evaluation), what the page reads for them (from
  ``call_facts``, kept for a few seconds per person), the figures, the charts, the paged call list and the call picker.
- ``outcomes``: provider evaluation, criteria pass rates, cost, escalations, links; conversations of all channels.
- ``detail``: one call: provider ids, metrics, events, customer feedback and the transcript (as plain text); for
  imported calls the recording, evaluation rationale, data collected and the linked return (reviewers correct it).
- ``admin``: owners and admins: upload event files, failed events with retry, webhook secrets.
- ``about_return``: the review panel's list of calls and conversations about a return.
"""
