"""fastgroup: an auto-graded study-group kit for Chapter 4 of the fastai book."""

from grader.core.version import __version__

__all__ = ["__version__", "check", "submit"]


def check(steps=None, **settings):
    """Grade the chapter's definitions in this notebook kernel (Jupyter, Colab, Kaggle): every step,
    or the ones named (`grader.check("mnist_loss")`). See grader/kernel.py."""
    from grader.kernel import check as check_kernel

    return check_kernel(steps, **settings)


def submit(token=None, db=None):
    """Send the chapter's definitions in this kernel to the group's board (FASTGROUP_TOKEN if no token)."""
    from grader.kernel import submit as submit_kernel

    return submit_kernel(token=token, db=db)
