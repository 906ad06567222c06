"""The judges: the runner that lends each lane a judge process, the kept judges that wait between
commands, the judge itself, its link to the sandboxed observer, the observer, and stack dumps of
stuck code. What they speak (grader/engine/protocol.py, wire.py) sits beside the checks, which
speak it too.

Only the engine reaches in here; front ends use the grading service (grader/engine/__init__.py)."""
