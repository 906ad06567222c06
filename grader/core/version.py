"""The kit's version, as installed (a checkout never installed says so)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fastgroup")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"
