"""A notebook's or a script's code cells, as text: read without running anything.

Only code cells are kept (outputs, images and markdown never are), each capped in size, so a
notebook of many megabytes of outputs is read in a moment. IPython magics (`%time`, `%%capture`)
and shell lines (`!pip install ...`) are dropped: they are the notebook's, not Python.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.core.errors import KitError
from grader.core.files import read_capped

MAX_NOTEBOOK_BYTES = 200_000_000  # a notebook full of images; only its code is kept
MAX_CELL_CHARS = 100_000  # one code cell; a longer one is cut (it is data, not the chapter's code)
MAGIC = re.compile(r"^\s*(?:[!%]|\?\w|\w+\?\s*$)")
CELL_MARK = re.compile(r"^# (?:%%|In\[\s*(\d*)\s*\]:)")  # a .py export's cell separators


@dataclass(frozen=True)
class Cell:
    number: int  # Jupyter's execution count (`In [n]`) where the notebook has one, else its position among all cells
    text: str
    run: bool = False  # `number` is an execution count: the cell shows as `In [n]`

    @property
    def label(self) -> str:
        return f"In [{self.number}]" if self.run else f"cell {self.number}"


def without_magics(text: str) -> str:
    """The cell with its magic and shell lines blanked (line numbers kept); a `%%` cell is dropped."""
    if text.lstrip().startswith("%%"):
        return ""
    return "\n".join("" if MAGIC.match(line) else line for line in text.splitlines())


def notebook_cells(raw: bytes, name: str) -> list[Cell]:
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise KitError(f"{name}: not a Jupyter notebook (it is not JSON): pass a .ipynb saved by Jupyter, "
                       "or a .py") from None
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(cells, list):
        raise KitError(f"{name}: not a Jupyter notebook (no cells): pass a .ipynb saved by Jupyter, or a .py")
    found = []
    for position, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str | list) or isinstance(source, list) and not all(
                isinstance(part, str) for part in source):
            raise KitError(f"{name}: cell {position} is damaged (its source is not text): open and save the "
                           "notebook again in Jupyter")
        text = "".join(source) if isinstance(source, list) else source
        text = text.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate cannot be written out
        count = cell.get("execution_count")
        run = type(count) is int and count > 0
        if isinstance(text, str):
            found.append(Cell(count if run else position, without_magics(text[:MAX_CELL_CHARS]), run))
    return found


def script_cells(text: str) -> list[Cell]:
    """A .py file: one cell per `# %%` or `# In[ ]:` block (a notebook exported as a script), or one cell."""
    blocks, current = [], []
    for line in text.splitlines():
        if CELL_MARK.match(line) and current:
            blocks.append("\n".join(current))
            current = []
        current.append(line)
    blocks.append("\n".join(current))
    cells = []
    for n, block in enumerate(blocks, 1):
        mark = CELL_MARK.match(block)
        count = int(mark.group(1)) if mark and mark.group(1) else 0
        cells.append(Cell(count or n, without_magics(block[:MAX_CELL_CHARS]), count > 0))
    return cells


def read_cells(path: Path) -> list[Cell]:
    """The code cells of a .ipynb or a .py; anything else is a one-line error."""
    if path.suffix not in (".ipynb", ".py"):
        raise KitError(f"{path}: expected a notebook (.ipynb), a Python file (.py) or an exercises folder")
    if not path.exists():
        raise KitError(f"{path}: no such file")
    raw = read_capped(path, MAX_NOTEBOOK_BYTES, "notebook", "pass the notebook or script with your chapter code")
    if path.suffix == ".ipynb":
        return notebook_cells(raw, str(path))
    try:
        return script_cells(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise KitError(f"{path}: not UTF-8 text: save it as UTF-8") from None
