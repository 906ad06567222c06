"""Maintainers' tools: solutions/ -> the exercises/ stubs and the nbgrader notebook."""
