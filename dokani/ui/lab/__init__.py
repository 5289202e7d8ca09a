"""Chat test lab widgets, one module per tab of ``views/chat.py``.

- ``sessions``: "Test chat": the session picker, the new-session form, the conversation and its tools.
- ``suites``: "Scenario suites": run a suite against a persona and a policy version; pass-rate history.
- ``personas``: "Personas": list, create, edit and set the default persona.
"""
