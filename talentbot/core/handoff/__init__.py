"""Human handoff: the queue of conversations waiting for staff, its rules, and the staff console."""
