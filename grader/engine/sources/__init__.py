"""Code sources: a learner's notebook, a script exported from one, or a step file written the
book's way, turned into step modules the checks can grade (never run at top level)."""
