"""The chat test lab: test customer-service personas against a policy version before customers meet them.

- ``agent``: the deterministic customer-service agent (intents, order lookup, triage, persona wording).
- ``sessions``: chat test sessions and their messages.
- ``personas``: ElevenLabs / Tavus persona configurations in ``provider_configs``.
- ``suites``: scripted scenario suites, their runs and ``persona_test_logs``.
- ``cli``: ``python -m dokani test-persona``.
"""
