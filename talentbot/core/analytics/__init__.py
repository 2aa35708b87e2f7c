"""Conversation analytics: what each user message asked and what the assistant did about it, without saying who.

- `turns`: a user message's turn summed up where its events are published together, sent with the message's event;
- `records`: a published event (and its turn) into one row of the analytics table, personal data left out
  (`identity`: keyed hashes; `masking`: the texts kept, only of messages not understood);
- `models`, `db`, `store`: the table, its database and migrations (own Alembic version table), storing exactly once,
  purging kept texts after the retention;
- `spool`: the local spool every Rasa process writes events to first;
- `outcome`: what the custom actions state about their replies (answer, "Did you mean", eligibility, handoff).
- `insights`, `gaps`, `tables`: reading it back: the supervisors' figures of a period and the weekly content-gap
  report, as tables (JSON, CSV) for the console and `talentbot review report`.
- `grouping`, `guesses`, `review`, `review_export`: the review queue: misunderstood messages grouped by what they ask
  (with the assistant's best guesses kept beside their texts), supervisors' decisions on the groups, and
  `talentbot review export`'s files (NLU and question-bank YAML, content gaps) for a maintainer to commit.
"""
