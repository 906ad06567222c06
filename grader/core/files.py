"""Reading a file the user named, safely: a regular file only, never more than a cap.

A FIFO would block `open()` forever and a device (/dev/zero, /dev/urandom) never ends, so
both are refused before anything is read: opened non-blocking, checked with fstat.
"""

import os
import stat
from pathlib import Path

from grader.core.errors import KitError


def read_capped(path: Path, limit: int, what: str, fix: str) -> bytes:
    """Up to limit + 1 bytes of a regular file (the caller tells 'too big' apart); else KitError.

    `what` names the file in the message ("results file"), `fix` says what to do instead.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise KitError(f"{what} {path} not found: {fix}") from None
    except OSError as err:
        raise KitError(f"cannot read {what} {path} ({err.strerror}): {fix}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe or a device)"
            raise KitError(f"{what} {path} is {kind}: {fix}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)
    except OSError as err:
        raise KitError(f"cannot read {what} {path} ({err.strerror}): {fix}") from None
    finally:
        os.close(fd)


def check_regular_or_absent(path: Path, what: str, fix: str) -> bool:
    """True when `path` is a regular file, False when nothing is there; KitError for anything else."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as err:
        raise KitError(f"cannot use {what} {path} ({err.strerror}): {fix}") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe or a device)"
        raise KitError(f"{what} {path} is {kind}: {fix}")
    return True
