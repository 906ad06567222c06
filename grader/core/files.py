"""Files, safely: reading one the user named (a regular file only, never more than a cap) and
writing the kit's own records whole or not at all.

A FIFO would block `open()` forever and a device (/dev/zero, /dev/urandom) never ends, so
both are refused before anything is read: opened non-blocking, checked with fstat.
"""

import os
import stat
from pathlib import Path

from grader.core.errors import KitError

STEP_FILE_BYTES = 1_000_000  # a step file or a module of the learner's own: far more than one needs


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


def read_inside(path: Path, folder: Path, limit: int) -> bytes:
    """A learner's file, read only if it is a regular file inside `folder` (a link that stays
    inside is fine; one out of it, a FIFO or a device is refused before a byte is read), and only
    if it is at most `limit` bytes. KitError names the file and what it is.

    Whoever grades a folder they did not write (an organiser, CI) would otherwise send the text of
    any file the link names into the sandbox, or read /dev/zero until memory runs out."""
    real = Path(path).resolve()
    if not real.is_relative_to(Path(folder).resolve()):
        raise KitError(f"{Path(path).name} is a link out of its folder: the kit reads only plain files inside it "
                       "(copy the file in instead)")
    fd = None
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or a device)"
            raise KitError(f"{Path(path).name} is {kind}: a step file must be a plain Python file")
        if info.st_size > limit:
            raise KitError(f"{Path(path).name} is larger than {limit // 1000} kB: a step file needs far less")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as err:
        raise KitError(f"cannot read {Path(path).name} ({err.strerror})") from None
    finally:
        if fd is not None:
            os.close(fd)
    if len(data) > limit:
        raise KitError(f"{Path(path).name} is larger than {limit // 1000} kB: a step file needs far less")
    return data


def write_atomic(path: Path, text: str) -> None:
    """Write `path` whole: a reader (another command, a judge, the learner's next session) never
    sees half a file, and a crash or Ctrl-C mid-write leaves the previous one as it was."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
