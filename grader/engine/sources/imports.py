"""A notebook's imports as the learner wrote them, and what the kit puts in their place.

`from fastbook import *` (the book's first cell) gives what fastai.vision.all gives, and more;
fastbook itself need not be installed: the step module star-imports fastai.vision.all in its
place and `fastbook.setup_book()` does nothing. fastai's 2020 preview was the `fastai2`
package: its names are fastai's now. `untar_data(URLs.MNIST_SAMPLE)` gives the kit's data folder
as the sandbox sees it. All of this is text for the step module, run only inside the sandbox.
"""

import ast

RENAMED = {"fastai2": "fastai"}  # a package's old name -> the one installed now
BOOK_PACKAGE = "fastbook"
BOOK_STAR = "from fastai.vision.all import *"  # what `from fastbook import *` gives first


def _renamed(module: str) -> str:
    head, _, rest = module.partition(".")
    return RENAMED.get(head, head) + (f".{rest}" if rest else "")


def rewritten(text: str) -> list[str]:
    """One import statement as the step module runs it (one or more lines)."""
    try:
        node = ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        return [text]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        head = node.module.split(".")[0]
        if head == BOOK_PACKAGE:
            stars = [a for a in node.names if a.name == "*"]
            named = [a for a in node.names if a.name != "*"]
            lines = [BOOK_STAR] if stars or node.module != BOOK_PACKAGE else []
            lines += [f"{a.asname or a.name} = _fastbook.{a.name}" for a in named]
            return lines or [BOOK_STAR]
        if head in RENAMED:
            node.module = _renamed(node.module)
            return [ast.unparse(node)]
        return [text]
    if isinstance(node, ast.Import):
        lines = []
        for alias in node.names:
            head = alias.name.split(".")[0]
            if head == BOOK_PACKAGE:
                lines.append(f"{alias.asname or BOOK_PACKAGE} = _fastbook")
            elif head in RENAMED:
                new = _renamed(alias.name)
                if alias.asname:
                    lines.append(f"import {new} as {alias.asname}")
                else:
                    lines += [f"import {new}", f"{head} = {RENAMED[head]}"]
            else:
                lines.append(f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""))
        return lines
    return [text]


# The stand-ins: fastbook's helpers the chapter calls, and the kit's data behind untar_data.
# `_kit_data` finds the data as this sandbox sees it: the judge binds its views beside the
# observer's own folder (the working directory), the sample's view has the classes 3 and 7 only.
BOOK_STAND_IN = '''
class _fastbook:
    """fastbook's names, as far as the chapter uses them (fastbook is not needed to grade)."""

    @staticmethod
    def setup_book(*args, **kwargs):
        return None

    @staticmethod
    def plot_function(*args, **kwargs):
        return None
'''

# After the imports (fastai's own untar_data is replaced):
STAND_INS = '''
def _kit_data():
    from pathlib import Path as _Path

    views = []
    for root in _Path.cwd().parent.glob("fastgroup-views-*"):
        for view in root.glob("view-*"):
            train = view / "train"
            if train.is_dir() and sorted(p.name for p in train.iterdir()) == ["3", "7"]:
                views.append(view)
    if not views:
        raise _Unresolved("the kit's data folder is not to be seen here: untar_data(URLs.MNIST_SAMPLE) has "
                          "nothing to stand for")
    return max(views, key=lambda v: int(v.name.rpartition("-")[2] or 0))


def untar_data(url=None, *args, **kwargs):
    """The kit's digits in MNIST_SAMPLE's layout (train/3, train/7, valid/3, valid/7): no download."""
    if url is not None and "mnist_sample" not in str(url).lower():
        raise _Unresolved(f"untar_data({url!r}): the kit grades on MNIST_SAMPLE's layout only")
    return _kit_data()


if "URLs" not in globals():
    class URLs:
        MNIST_SAMPLE = "mnist_sample"
'''
