"""A notebook's chapter code as the kit's step modules, without running any of it.

Only imports, definitions and the few top-level assignments the book uses to build a model or a
Learner are taken from the cells; everything else (downloads, training loops, plots) is left
alone. Each definition is matched to a step by its name and its signature: the kit's signature
is used as written, the book's (globals instead of arguments, book.py) gets an adapter that
binds those globals to the kit's arguments. Where a name is defined twice for one role, the last
definition wins, as in the kernel. The step modules this writes are graded like exercises/.
"""

import ast
import contextlib
import re
import textwrap
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from grader.core.errors import KitError
from grader.core.files import STEP_FILE_BYTES, read_inside
from grader.core.home import KIT_ROOT
from grader.core.steps import ALL_IDS
from grader.engine.loading import kit_imports, parse
from grader.engine.sources.book import (
    BOOK_FORMS,
    BOOK_HIDDEN,
    HELPER_FORMS,
    STATEMENT_CALLS,
    STATEMENT_FORMS,
    BookForm,
    StatementForm,
)
from grader.engine.sources.cells import Cell

BASE_IMPORTS = ("import torch", "from torch import nn", "import torch.nn.functional as F")


@cache
def kit_names(step: str) -> dict[str, int]:
    """The functions and classes a step asks for, with their parameter counts (-1 for a class)."""
    tree = ast.parse((KIT_ROOT / "solutions" / f"{step}.py").read_text())
    return {
        node.name: (len(node.args.args) if isinstance(node, ast.FunctionDef) else -1)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
    }


@dataclass
class Found:
    """One definition in the learner's code."""

    cell: int
    node: ast.stmt
    text: str

    @property
    def where(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"cell {self.cell}: {first[:80]}"


@dataclass
class Scan:
    """What the cells hold: imports, definitions and assignments in order, and the cells that do not parse."""

    imports: list[str] = field(default_factory=list)
    defs: list[Found] = field(default_factory=list)
    assigns: list[Found] = field(default_factory=list)
    broken: dict[int, str] = field(default_factory=dict)  # cell -> one line
    broken_names: dict[str, int] = field(default_factory=dict)  # a name a broken cell defines -> its cell


@dataclass
class Extracted:
    """The step modules made from a learner's code, and where each step's code came from."""

    files: dict[str, str] = field(default_factory=dict)  # "<step>.py" -> module text
    used: dict[str, list[str]] = field(default_factory=dict)  # step -> "name: cell N: first line"
    absent: dict[str, str] = field(default_factory=dict)  # step -> why it is not graded


DEFINED = re.compile(r"^(?:def|class)\s+(\w+)|^(\w+)\s*=", re.MULTILINE)


def scan(cells: list[Cell]) -> Scan:
    found = Scan()
    for cell in cells:
        try:
            tree = parse(cell.text)
        except SyntaxError as err:
            where = f", its line {err.lineno}" if err.lineno else ""
            found.broken[cell.number] = f"cell {cell.number} does not parse ({err.msg}{where})"
            for match in DEFINED.finditer(cell.text):
                found.broken_names[match.group(1) or match.group(2)] = cell.number
            continue
        for node in tree.body:
            text = ast.get_source_segment(cell.text, node) or ""
            if isinstance(node, ast.Import | ast.ImportFrom):
                if kit_imports(text):  # the notebook's `import grader` (for grader.check()), not chapter code
                    continue
                if text not in found.imports:
                    found.imports.append(text)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                found.defs.append(Found(cell.number, node, decorated_text(cell.text, node)))
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                found.assigns.append(Found(cell.number, node, text))
    return found


def decorated_text(source: str, node) -> str:
    """A definition's source with its decorators."""
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    lines = source.splitlines()[start - 1: node.end_lineno]
    return textwrap.dedent("\n".join(lines))


def param_count(node) -> int:
    return len(node.args.args) if isinstance(node, ast.FunctionDef) else -1


def last_def(scan_: Scan, name: str, params: int | None = None) -> Found | None:
    """The last definition of `name` (with that many parameters, when given)."""
    for found in reversed(scan_.defs):
        if found.node.name == name and (params is None or param_count(found.node) == params):
            return found
    return None


def calls(node: ast.expr) -> set[str]:
    """The names of the functions a value calls at its top (nn.Sequential -> Sequential)."""
    if isinstance(node, ast.Call):
        func = node.func
        return {func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")}
    return set()


def last_assign(scan_: Scan, form: StatementForm, target: str) -> Found | None:
    wanted = STATEMENT_CALLS.get((form.step, target))
    for found in reversed(scan_.assigns):
        if found.node.targets[0].id == target and (wanted is None or calls(found.node.value) & set(wanted)):
            return found
    return None


def guarded(text: str) -> str:
    """A helper definition that must not stop the module loading (a decorator that needs the notebook)."""
    return "try:\n" + textwrap.indent(text, "    ") + "\nexcept Exception:  # noqa: BLE001\n    pass\n"


def renamed(found: Found, name: str) -> str:
    """The definition's source with its function renamed (the adapter takes the kit's name)."""
    node = found.node
    line = found.text.splitlines()
    offset = node.lineno - min([d.lineno for d in node.decorator_list] + [node.lineno])
    line[offset] = re.sub(rf"\bdef\s+{re.escape(node.name)}\b", f"def {name}", line[offset], count=1)
    return "\n".join(line)


def book_adapter(form: BookForm) -> str:
    bind = ", ".join(f"{k}={v}" for k, v in form.binds.items())
    if form.name == "train_model":  # the book prints each epoch's accuracy; the kit returns them
        return (f"def train_model({form.kit_params}):\n"
                f"    _bind({bind})\n"
                f"    accuracies = []\n"
                f"    for _ in range(epochs):\n"
                f"        _book_train_model({form.call})\n"
                f"        accuracies.append(_accuracy(model, valid_dl, metric))\n"
                f"    return accuracies\n")
    return f"def {form.name}({form.kit_params}):\n    _bind({bind})\n    return _book_{form.name}({form.call})\n"


class Transform(ast.NodeTransformer):
    """The book's statement, rebuilt on the kit's inputs: the Learner on the model given, the
    hidden layer's size from n_hidden."""

    def __init__(self, form: StatementForm):
        self.form = form

    def visit_Call(self, node: ast.Call):  # noqa: N802  (ast's naming)
        self.generic_visit(node)
        if self.form.name == "make_learner" and calls(node) & {"Learner"}:
            if len(node.args) >= 2:
                node.args[1] = ast.Name("model", ast.Load())
            for keyword in node.keywords:
                if keyword.arg == "model":
                    keyword.value = ast.Name("model", ast.Load())
        return node

    def visit_Constant(self, node: ast.Constant):  # noqa: N802
        if self.form.name == "simple_net_module" and node.value == BOOK_HIDDEN and type(node.value) is int:
            return ast.Name("n_hidden", ast.Load())
        return node


def statement_function(form: StatementForm, statements: list[Found]) -> str:
    body = [f"{name} = {value}" for name, value in form.aliases.items()]
    for found in statements:
        node = Transform(form).visit(ast.parse(found.text).body[0])
        body.append(ast.unparse(node))
    body.append(f"return {form.returns}")
    return f"def {form.name}({form.kit_params}):\n" + textwrap.indent("\n".join(body), "    ") + "\n"


def missing_stub(name: str, source: str, looked: str) -> str:
    return (f"def {name}(*args, **kwargs):\n"
            f"    raise NotImplementedError({f'{name} is not in {source}: looked for {looked}'!r})\n")


KIT_SUPPORT = '''
def _bind(**values):
    """The globals the book's code reads, set to the kit's arguments for this call."""
    globals().update(values)


def _accuracy(model, valid_dl, metric):
    with torch.no_grad():
        accs = [metric(model(xb), yb) for xb, yb in valid_dl]
    return round(torch.stack(accs).mean().item(), 4)
'''


def referenced(text: str) -> set[str]:
    """The names a piece of code reads."""
    try:
        tree = parse(text)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def carried(pieces: list[str], scan_: Scan, own: set[str]) -> list[Found]:
    """The learner's helpers the step's code uses, and theirs in turn (the last definition of each
    name), in the notebook's order: a helper is carried along with what uses it, nothing else is."""
    last = {found.node.name: found for found in scan_.defs}
    queue = sorted(set().union(*map(referenced, pieces)))
    seen = set(own)
    while queue:
        name = queue.pop()
        if name in seen or name not in last:
            continue
        seen.add(name)
        queue.extend(sorted(referenced(last[name].text)))
    return [found for found in scan_.defs if found.node.name in seen - own and last[found.node.name] is found]


def step_module(step: str, scan_: Scan, source: str) -> tuple[str | None, list[str], str | None]:
    """(module text, what was used, why the step is absent) for one step."""
    pieces, used, absent_names = [], [], []
    book_by_name = {f.name: f for f in BOOK_FORMS if f.step == step}
    statement_by_name = {f.name: f for f in STATEMENT_FORMS if f.step == step}
    for name, params in kit_names(step).items():
        kit = last_def(scan_, name, params)
        form = book_by_name.get(name)
        book = last_def(scan_, name, form.params) if form else None
        chosen = max((f for f in (kit, book) if f), key=lambda f: (f.cell, f.node.lineno), default=None)
        if chosen is not None and chosen is kit:
            pieces.append(kit.text)
            used.append(f"{name}: {kit.where}")
        elif chosen is not None:
            pieces.append(renamed(book, f"_book_{name}"))
            pieces.append(book_adapter(form))
            used.append(f"{name}: {book.where}")
        elif name in statement_by_name:
            statement = statement_by_name[name]
            found = [last_assign(scan_, statement, t) for t in statement.targets]
            if all(found):
                pieces.append(statement_function(statement, found))
                used.append(f"{name}: " + "; ".join(f.where for f in found))
            else:
                absent_names.append(name)
                pieces.append(missing_stub(name, source, f"def {name}(...) or {' and '.join(statement.targets)} = ..."))
        else:
            absent_names.append(name)
            pieces.append(missing_stub(name, source, f"def {name}(...)"))
    if not used:
        broken = [scan_.broken_names[n] for n in kit_names(step) if n in scan_.broken_names]
        why = scan_.broken[broken[-1]] if broken else f"not found in {source}: looked for {', '.join(kit_names(step))}"
        return None, [], why
    own = set(kit_names(step)) | {f"_book_{name}" for name in kit_names(step)}
    for name, params in HELPER_FORMS.get(step, ()):
        helper = last_def(scan_, name, params)
        if helper is not None:
            pieces.insert(0, helper.text)
            own.add(name)
    helpers = [guarded(f.text) for f in carried(pieces, scan_, own)]
    imports = [f"try:\n    {line}\nexcept Exception:  # noqa: BLE001\n    pass" if "\n" not in line else guarded(line)
               for line in scan_.imports]
    text = "\n\n".join([
        f'"""{step}, as found in {source} by fastgroup (nothing of it was run to find it)."""',
        "\n".join(BASE_IMPORTS), "\n".join(imports), KIT_SUPPORT, *helpers, *pieces,
    ]) + "\n"
    return text, used + [f"{n}: not found" for n in absent_names], None


def extract(cells: list[Cell], source: str, steps=ALL_IDS) -> Extracted:
    """The step modules of every step whose code the cells hold; `source` names them in messages."""
    scanned = scan(cells)
    out = Extracted()
    for step in steps:
        text, used, absent = step_module(step, scanned, source)
        if text is None:
            out.absent[step] = absent
        else:
            out.files[f"{step}.py"] = text
            out.used[step] = used
    return out


def uses_book_form(step: str, text: str) -> bool:
    """Whether a step file written for the kit defines one of the step's functions the book's way."""
    try:
        tree = parse(text)
    except SyntaxError:
        return False
    forms = {f.name: f.params for f in BOOK_FORMS if f.step == step}
    wanted = kit_names(step)
    return any(
        isinstance(node, ast.FunctionDef) and node.name in forms and len(node.args.args) == forms[node.name]
        and len(node.args.args) != wanted.get(node.name)
        for node in tree.body
    )


def adapted_folder(folder: Path) -> dict[str, str] | None:
    """The step files of an exercises folder with the book-style ones adapted; None when none is."""
    files = {}
    for p in sorted(folder.glob("*.py")):
        with contextlib.suppress(KitError):  # a link out, a FIFO or a device: refused as its step is graded
            files[p.name] = read_inside(p, folder, STEP_FILE_BYTES).decode("utf-8", errors="replace")
    book_style = [p for p in files if p[:-3] in ALL_IDS and uses_book_form(p[:-3], files[p])]
    if not book_style:
        return None
    for name in book_style:
        text = step_module(name[:-3], scan([Cell(1, files[name])]), str(folder / name))[0]
        if text is not None:
            files[name] = text
    return files
