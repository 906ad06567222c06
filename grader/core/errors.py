"""The one error type the CLI turns into a one-line message and exit code 2."""


class KitError(Exception):
    """A usage or environment problem: the message names the problem and the fix."""
