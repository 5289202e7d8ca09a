"""Returns: the return requests a shop receives, and the people who decide them.

- ``status``: the status vocabulary and its legal transitions, and who may decide.
- ``filters``: ``ReturnQueueFilter`` (what a reviewer asks for) and the SQL it becomes: WHERE clauses, sort keys,
  the reason code / age / SLA expressions (``reason_code_sql``, stored as ``return_requests.reason_code`` by revision 0015).
- ``query_string``: a queue filter in a URL's query string and back (the overview's drill-down links).
- ``rows``: one return request as stored: the audit entity, the acting business, the row with its version.
- ``queue``: keyset pages of the queue, the KPI strip, filter options, CSV export.
- ``review``: the review panel's data for one return (order, AI reading, customer history and risk, security
  events, audit timeline), deep-link lookup, the policy versions to re-triage under.
- ``evidence``: what the customer sent: evidence links classified (safe or not), the conversation log as turns.
- ``decisions``: ``decide_return`` and bulk ``decide_returns``, ``require_decider``, stale-version conflicts.
- ``csv_import``: import returns from a shop's CSV export, checked whole and written whole.
"""
