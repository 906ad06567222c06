"""fastgroup: an auto-graded study-group kit for Chapter 4 of the fastai book."""

from grader.core.version import __version__

__all__ = ["__version__", "check", "hint", "status", "submit"]


def check(steps=None, **settings):
    """Grade the chapter's definitions in this notebook kernel (Jupyter, Colab, Kaggle): every step,
    or the ones named (`grader.check("mnist_loss")`). See grader/kernel.py."""
    from grader.kernel import check as check_kernel

    return check_kernel(steps, **settings)


def hint(step, show_all=False):
    """The next hint for a step, below the cell (`grader.hint("mnist_loss")`): the same hints, one at
    a time, as `fastgroup hint STEP`; `show_all=True` shows again every one seen so far."""
    from grader.kernel import hint as kernel_hint

    return kernel_hint(step, show_all)


def submit(token=None, board=None, wait=True, db=None):
    """Send the chapter's definitions in this kernel to the group's board at `board` (else
    FASTGROUP_BOARD_URL) with your token (else FASTGROUP_TOKEN), and show the grade when it is done."""
    from grader.kernel import submit as submit_kernel

    return submit_kernel(token=token, board=board, wait=wait, db=db)


def status(token=None, board=None):
    """Your submissions on the group's board: queued, being graded, graded or failed."""
    from grader.kernel import status as kernel_status

    return kernel_status(token=token, board=board)
