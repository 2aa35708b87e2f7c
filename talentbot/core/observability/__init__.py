"""What an operator sees of a running process: structured logs (`logs`), readiness checks (`readiness`), Prometheus
metrics shared by every process (`metrics`) and what one conversation turn counts for (`turns`).

Pure like the rest of the core: no web framework; the edges (the Rasa server's and the action server's hooks in
talentbot.rasa_plugins, the staff console) serve `/health`, `/ready` and `/metrics` with these.
"""
