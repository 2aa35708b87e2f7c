"""talentbot: the Talent Service Window assistant.

Layers, innermost first (ARCHITECTURE.md; tests/test_architecture.py enforces the direction):
`talentbot.core` (pure logic and the handoff store), then the edges that adapt it — `talentbot.rasa_plugins`
(Rasa components, stores and server hooks), `talentbot.console` (the staff console), `connectors/` (channels) and
`actions/` (custom actions) — and `talentbot.wiring` (processes, CLI, assembly) outermost.
"""
