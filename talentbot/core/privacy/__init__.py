"""Personal data under Hong Kong's Personal Data (Privacy) Ordinance (Cap. 486): how long the assistant keeps what
users tell it, and finding, exporting and erasing one user's data.

Pure: SQLAlchemy Core over the stores' own tables (Rasa's `events` table, the handoff queue's tables) and plain
file access for log files; the channel state store erases its own keys (connectors/state.py), and
`talentbot.wiring.privacy_cli` finds the stores and runs `talentbot privacy purge|export|delete`.
"""
