"""The refresh job: a new reference from recent normal traffic with the current frozen model (issue 12)."""
