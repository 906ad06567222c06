"""Reference implementations of the Chapter 4 steps: the single source for exercises/ and the notebook."""
