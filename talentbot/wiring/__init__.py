"""Process wiring: the command line, the supervisor, and the assembly of servers from the other layers."""
