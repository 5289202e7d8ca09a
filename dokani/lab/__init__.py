"""The chat test lab: test customer-service personas against a policy version before customers meet them.

The customer-service agent (one turn: words in, reply out; no UI, deterministic by default):
- ``agent``: a customer turn handled end to end (``respond``) and what the agent remembers (``AgentState``).
- ``intents``: reading the customer's words: the intent, order ids and evidence in a message.
- ``orders``: which order the customer means, in ``mock_orders`` or simulated by a suite.
- ``decisions``: the triage engine on a return, and the ``is_test`` return request it opens.
- ``replies``: the persona's voice and the sentences that explain a policy or a decision.
- ``phrasing``: optional rephrasing by an OpenAI-compatible endpoint, kept only when faithful.

Around it:
- ``sessions``: chat test sessions: open, list, rename, archive; the policy versions one may test.
- ``conversations``: a session's messages, one customer turn stored with the agent's reply, exports.
- ``personas``: ElevenLabs / Tavus persona configurations in ``provider_configs``.
- ``suite_files``: scripted scenario suite files, parsed and validated with line-precise errors.
- ``suites``: running suites, their results in ``persona_test_logs``, the latest result per policy version.
- ``cli``: ``python -m dokani test-persona``.
"""
