"""Returns page widgets (``views/returns.py``, ``views/import.py``).

- ``queue``: the queue: KPI strip, triage button, filters, the keyset-paged table, bulk decisions, CSV export.
- ``review``: the review panel of one return (``?return=<public id>``): its header and the layout of the sections:
  - ``evidence``: the request, the order, the evidence the customer sent, the conversation;
  - ``recommendation``: the headline figures, why the AI recommends this, the engine's reading now;
  - ``decision``: the decision form (approve, deny, escalate, complete with a note) and (re-)run triage;
  - ``history``: the customer's risk profile, other returns and security events, and the audit timeline.
- ``state``: what the page keeps in the session: the flash message, seen versions, the queue's snapshot.
- ``csv_import``: the Import page: template, upload, every line checked, one import.
"""
