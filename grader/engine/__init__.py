"""The grading engine: runs the checks on a learner's code in a worker process, trains, scores.

Builds on grader.core only (docs/architecture.md)."""
