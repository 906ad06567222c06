"""What a member sends to be graded: their step modules (or quiz answers), checked and capped.

Only files named after a step (`<step id>.py`) are taken, each UTF-8 text under a size cap, so a
submission is the learner's code and nothing else. Both `fastgroup submit` and the page's upload
(files or a zip) come through here. A zip that does not open, an entry that does not unpack
intact (a bad CRC, damaged data, encryption) or a name that is not UTF-8 is refused with one
line, before anything is stored.
"""

import io
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from grader.core.errors import KitError
from grader.core.files import read_inside
from grader.core.steps import ALL_IDS

MAX_FILE_BYTES = 100_000  # a step module is a few kB
MAX_TOTAL_BYTES = 1_000_000
MAX_ZIP_ENTRIES = 200
STEP_FILES = {f"{s}.py" for s in ALL_IDS}
ANSWER_SUFFIXES = (".toml", ".json")


def from_folder(folder: Path) -> dict[str, str]:
    """The step modules of an exercises folder."""
    if not folder.is_dir():
        raise KitError(f"exercises folder {folder} not found: pass --source DIR")
    files = {}
    for name in sorted(STEP_FILES):
        if (folder / name).exists():  # a link out of the folder, a pipe or a device: one line, nothing sent
            files[name] = _text(name, read_inside(folder / name, folder, MAX_FILE_BYTES))
    return _checked(files, str(folder))


def from_notebook(path: Path) -> dict[str, str]:
    """The step modules made from a notebook's or a script's chapter definitions (none of it run;
    its outputs are never sent)."""
    from grader.engine import extract, read_cells

    return modules(extract(read_cells(path), path.name).files, str(path))


def modules(files: dict[str, str], where: str) -> dict[str, str]:
    """Step modules made by the kit (from a notebook or a kernel), held to a step file's caps."""
    for name, text in files.items():
        _text(name, text.encode("utf-8"))
    return _checked(files, where)


def from_upload(uploads: list[tuple[str, bytes]]) -> dict[str, str]:
    """The step modules among uploaded files: .py files and the .py files inside zips."""
    files: dict[str, str] = {}
    for name, raw in uploads:
        if name.lower().endswith(".zip"):
            files.update(_from_zip(name, raw))
        elif PurePosixPath(name).name in STEP_FILES:
            files[PurePosixPath(name).name] = _text(name, raw)
    return _checked(files, ", ".join(n for n, _ in uploads) or "the upload")


def from_request(kind: str, files: dict[str, str]) -> dict[str, str]:
    """What the HTTP API was sent: step modules by name (any other name is refused, so a member
    learns that a file was not taken), or one quiz answers file."""
    if kind == "quiz":
        if len(files) != 1:
            raise KitError(f"quiz answers are one file, not {len(files)}: send the .toml or .json file you filled in")
        ((name, text),) = files.items()
        return answers(name, text.encode("utf-8", errors="surrogatepass"))
    unknown = sorted(n for n in files if n not in STEP_FILES)
    if unknown:
        raise KitError(
            f"{unknown[0][:80]!r} is not a step module: send only files named after the steps "
            "(mnist_loss.py, linear1.py, ...; `fastgroup list` shows them)"
        )
    return _checked({n: _text(n, t.encode("utf-8", errors="surrogatepass")) for n, t in files.items()}, "the request")


def answers(name: str, raw: bytes) -> dict[str, str]:
    """A quiz answers file (TOML or JSON) as a submission: {file name: text}.

    Read here as the grader will read it, so a file that does not parse is refused at once.
    """
    from quiz.answers import read_answers
    from quiz.model import load_quiz

    if not name.lower().endswith(ANSWER_SUFFIXES):
        raise KitError(f"{name}: quiz answers are a .toml or .json file (`fastgroup quiz --template FILE` writes one)")
    if len(raw) > MAX_FILE_BYTES:
        raise KitError(f"{name}: over {MAX_FILE_BYTES:,} bytes, far more than the quiz's answers need")
    read_answers(raw, name, Path(name).suffix, load_quiz())
    return {"answers" + Path(name).suffix.lower(): _text(name, raw)}


def _from_zip(name: str, raw: bytes) -> dict[str, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        entries = archive.infolist()
    except UnicodeDecodeError:
        raise KitError(f"{name} holds a file name that is not UTF-8: rename the files to plain step names "
                       "(mnist_loss.py ...) and zip them again") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise KitError(f"{name} is not a zip file that opens: zip your exercises/ folder again") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise KitError(f"{name} holds {len(entries)} files: zip only your exercises/ folder")
    files = {}
    for entry in entries:
        base = PurePosixPath(entry.filename).name
        if base not in STEP_FILES or entry.is_dir():
            continue
        if entry.file_size > MAX_FILE_BYTES:
            raise KitError(f"{name}: {base} is over {MAX_FILE_BYTES:,} bytes: keep it to the step's code")
        try:
            with archive.open(entry) as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError):
            raise KitError(f"{name}: {base} is damaged in the zip (it does not unpack intact): zip your exercises/ "
                           "folder again") from None
        files[base] = _text(f"{name}: {base}", raw)
    return files


def _text(name: str, raw: bytes) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise KitError(f"{name} is over {MAX_FILE_BYTES:,} bytes: keep it to the step's code")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KitError(f"{name} is not UTF-8 text: save it as UTF-8 and send it again") from None


def _checked(files: dict[str, str], where: str) -> dict[str, str]:
    if not files:
        raise KitError(
            f"no step module in {where}: send your exercise files (pixel_similarity.py, init_params.py, ...) "
            "or a zip of your exercises/ folder"
        )
    total = sum(len(t.encode("utf-8")) for t in files.values())
    if total > MAX_TOTAL_BYTES:
        raise KitError(f"{where}: {total:,} bytes of code, over the {MAX_TOTAL_BYTES:,}-byte limit")
    return files
