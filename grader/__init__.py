"""fastgroup: an auto-graded study-group kit for Chapter 4 of the fastai book."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fastgroup")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"
