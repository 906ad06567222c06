"""`grader.check()` and `grader.submit()` in a learner's own kernel: Jupyter, Colab or Kaggle.

The code graded is the kernel's: the cells run so far (IPython's input history), or, outside
IPython, the script being run. Its definitions are found the way `fastgroup grade --source
NOTEBOOK` finds them (grader/engine/sources) and graded by the same service, in the sandbox
where bubblewrap is there and in a separate process that says it is not isolated where it is
not (Colab, Kaggle, macOS). Nothing the kernel holds (its tensors, its data) is used: only code.
"""

import os
import sys
from pathlib import Path

from grader.core.errors import KitError
from grader.core.results import Results
from grader.engine import Cell, Extracted, extract, script_cells, without_magics
from grader.learner.report import KERNEL


def kernel_cells() -> list[Cell]:
    """The cells this kernel ran, in the order it ran them; outside IPython, the script's."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None  # noqa: N806
    shell = get_ipython() if get_ipython else None
    if shell is not None:
        history = shell.user_ns.get("In") or []
        return [Cell(n, without_magics(text), run=True)  # n: the cell's `In [n]`
                for n, text in enumerate(history) if n and isinstance(text, str)]
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main and Path(main).suffix == ".py":
        return script_cells(Path(main).read_text(encoding="utf-8", errors="replace"))
    raise KitError("grader.check() reads the cells a notebook kernel ran: call it from Jupyter, Colab or "
                   "Kaggle, or grade a file with `fastgroup grade --source NOTEBOOK`")


def kernel_id() -> str:
    """This kernel's own name, so that each kernel keeps its own latest grade: its connection file's
    (Jupyter's kernel id), else its process id."""
    try:
        from ipykernel.connect import get_connection_file

        return Path(get_connection_file()).stem.removeprefix("kernel-")[:8]
    except Exception:  # noqa: BLE001  (no kernel: a script, or an IPython shell)
        return f"pid {os.getpid()}"


def kernel_code() -> Extracted:
    found = extract(kernel_cells(), KERNEL)
    if not found.files:
        raise KitError("no chapter definition in the cells this kernel ran: run the cells with your "
                       "def mnist_loss(...), def linear1(...) etc. first, then grader.check()")
    return found


def check(steps: str | list[str] | None = None, data: str | None = None, device: str | None = None,
          quick: bool = False, seed: int | None = None) -> Results:
    """Grade the chapter's definitions this kernel holds (every step, or the ones named) and show
    the table, the named mistakes, the hints to ask for and the plots below the cell."""
    from grader.learner.grade import grade

    named = [steps] if isinstance(steps, str) else list(steps or [])
    results = grade(steps=named or None, source=kernel_code(), data=data, device=device, quick=quick, seed=seed,
                    label=Path(KERNEL), kept_as=Path(f"{KERNEL} {kernel_id()}"))
    show_plots(results)
    return results


def hint(step: str, show_all: bool = False) -> str:
    """The next hint for a step, as `fastgroup hint STEP` gives it (every one seen so far with `show_all`)."""
    from grader.learner.hints import next_hint, shown_hints

    text = "\n".join(shown_hints(step)) if show_all else next_hint(step)
    print(text)
    return text


def show_plots(results: Results) -> None:
    """The accuracy curves and confusion matrices of this grade, inline (where IPython shows images)."""
    try:
        from IPython.display import Image, display
    except ImportError:
        return
    from grader.core.home import subdir

    for step in results.extra_data.accuracies:
        for png in (subdir("plots") / f"{step}.png", subdir("plots") / f"{step}-confusion.png"):
            if png.is_file():
                display(Image(filename=str(png)))


def submit(token: str | None = None, board: str | None = None, wait: bool = True, db: str | None = None) -> str:
    """Send the chapter's definitions this kernel holds to the group's board (never its outputs): to
    its URL (board=, else FASTGROUP_BOARD_URL) and, with `wait`, show the grade once it is done."""
    from grader.board import code
    from grader.board.submit import send

    files = code.modules(kernel_code().files, KERNEL)
    print(f"Sending the definitions of {len(files)} step(s): {', '.join(sorted(f[:-3] for f in files))}")
    # the board shows where a submission came from: the notebook's name where Jupyter says it
    message = send(files, "grade", token, db, board, wait, announce=print,
                   source=os.environ.get("JPY_SESSION_NAME") or "kernel")
    print(message)
    return message


def status(token: str | None = None, board: str | None = None) -> str:
    """Your submissions on the board (board=, else FASTGROUP_BOARD_URL), newest first."""
    from grader.board.submit import status as board_status

    text = "\n".join(board_status(token=token, board=board))
    print(text)
    return text
