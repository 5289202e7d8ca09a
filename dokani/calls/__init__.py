"""Calls: AI voice (ElevenLabs) and video (Tavus) calls with customers.

- ``analytics``: the calls summary for a period, the keyset-paged call list, one call with its transcript.
"""
