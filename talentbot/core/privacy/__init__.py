"""Personal data under Hong Kong's Personal Data (Privacy) Ordinance (Cap. 486): how long the assistant keeps what
users tell it, and finding, exporting and erasing one user's data.

Pure: SQLAlchemy Core over the stores' own tables (Rasa's `events` table, the handoff queue's tables) and plain
file access for log files; the channel state store erases its own keys (connectors/state.py), the analytics table
and the host's events spool their own rows (talentbot/core/analytics/store.py, spool.py: found by the conversation's
keyed hash, and by the events' sender id), and `talentbot.wiring.privacy_cli` finds the stores and runs
`talentbot privacy purge|export|delete`.
"""
