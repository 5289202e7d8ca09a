"""Calls: AI voice (ElevenLabs) and video (Tavus) calls with customers.

- ``analytics``: the calls summary for a period, the keyset-paged call list, one call with its transcript.
- ``facts``: the same figures (and the outcomes') read from ``call_facts``, which Postgres keeps current (revision
  0019): what the Calls page and the overview's call tiles read.
- ``outcomes``: provider evaluation, criteria pass rates, cost, escalations, links; conversations of all channels.
- ``elevenlabs`` / ``tavus``: provider payloads (pydantic) -> ``events_model.ImportEvent``.
- ``importer``: files read and checked, the ``call_events`` ledger, imports all-or-nothing; ``resolve`` finds the
  persona and call, ``apply`` writes one event; ``metrics`` computes call metrics from a transcript.
- ``service``: imports as a signed-in owner / admin (CLI, upload). ``cli``: ``import-calls``, ``webhook-secret``.
- ``linking``: which return a call was about, and reviewers' corrections. ``call_record``: a call's detail extras.
- ``webhook_secrets``, ``webhooks`` (verify, store raw, process, retry), ``webhooks_http`` (Starlette routes).
"""
