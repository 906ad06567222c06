"""The nbgrader track: checks run inside a notebook kernel, and reading nbgrader's gradebook."""
