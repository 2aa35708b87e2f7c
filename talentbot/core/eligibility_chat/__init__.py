"""The conversational eligibility check without Rasa: slots ↔ profile, reading answers, rendering replies.

The Rasa form (actions/eligibility/) is a thin adapter over these pure functions:
`extract` reads facts from a message, `slots` turns slot values into an interfaces §3 profile and says
which slot to ask next, `render` writes questions and the result in en / zh-Hant / zh-Hans from
bot/forms/eligibility.yml.
"""
