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
from grader.engine.sources.book import BOOK_HIDDEN, BookForm, StatementForm, book_of
from grader.engine.sources.cells import Cell
from grader.engine.sources.imports import BOOK_STAND_IN, STAND_INS, rewritten
from grader.engine.sources.light import lighter, module_bindings
from grader.engine.sources.own_globals import (
    BUILTINS,
    ROLES,
    SUPPORT,
    Statement,
    backward_slice,
    block_binds,
    free_reads,
    pair_roles,
    params_by_name,
    slice_text,
    targets,
    training_defs,
)

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


@cache
def kit_params(step: str) -> dict[str, list[str]]:
    """The step's functions with their parameters' names, as the kit calls them."""
    tree = ast.parse((KIT_ROOT / "solutions" / f"{step}.py").read_text())
    return {node.name: [a.arg for a in node.args.args] for node in tree.body
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}


@dataclass
class Found:
    """One definition in the learner's code."""

    cell: int  # the cell's place among the cells, in the order they ran
    node: ast.stmt
    text: str
    label: str = ""  # `In [7]` or `cell 7`, as the learner sees the cell

    @property
    def where(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"{self.label or f'cell {self.cell}'}: {first[:80]}"


@dataclass
class Scan:
    """What the cells hold: imports, definitions and assignments in order, and the cells that do not parse."""

    imports: list[str] = field(default_factory=list)
    defs: list[Found] = field(default_factory=list)
    assigns: list[Found] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)  # every top-level statement, in order
    broken: dict[int, str] = field(default_factory=dict)  # cell -> one line
    broken_names: dict[str, int] = field(default_factory=dict)  # a name a broken cell defines -> its cell
    imported: set[str] = field(default_factory=set)  # the names the imports bind (not what a * gives)


@dataclass
class Extracted:
    """The step modules made from a learner's code, and where each step's code came from."""

    files: dict[str, str] = field(default_factory=dict)  # "<step>.py" -> module text
    used: dict[str, list[str]] = field(default_factory=dict)  # step -> "name: cell N: first line"
    absent: dict[str, str] = field(default_factory=dict)  # step -> why it is not graded


DEFINED = re.compile(r"^(?:def|class)\s+(\w+)|^(\w+)\s*=", re.MULTILINE)


def scan(cells: list[Cell]) -> Scan:
    found = Scan()
    for order, cell in enumerate(cells, 1):
        try:
            tree = parse(cell.text)
        except SyntaxError as err:
            where = f", its line {err.lineno}" if err.lineno else ""
            found.broken[order] = f"{cell.label} does not parse ({err.msg}{where})"
            for match in DEFINED.finditer(cell.text):
                found.broken_names[match.group(1) or match.group(2)] = order
            continue
        for node in tree.body:
            text = ast.get_source_segment(cell.text, node) or ""
            found.statements.append(Statement(len(found.statements) + 1, cell.label, node, text))
            if isinstance(node, ast.Import | ast.ImportFrom):
                if kit_imports(text):  # the notebook's `import grader` (for grader.check()), not chapter code
                    continue
                found.imported |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
                if text not in found.imports:
                    found.imports.append(text)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                found.defs.append(Found(order, node, decorated_text(cell.text, node), cell.label))
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                found.assigns.append(Found(order, node, text, cell.label))
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
    wanted = form.calls.get(target)
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


@dataclass
class Adapter:
    """The kit's `name(kit params)` calling the learner's function `own` with `call`, after binding
    the globals it reads (`binds`: the global -> the expression the kit gives it)."""

    name: str
    kit_params: str
    own: str
    call: str
    binds: dict[str, str]
    consumed: tuple[str, ...] = ()  # the kit's arguments passed as the learner's parameters
    reads: tuple[str, ...] = ()  # the module-level names the learner's code reads (a NameError on one is explained)
    paired: dict[str, str] = field(default_factory=dict)  # the learner's global -> the book's it stands for

    def text(self) -> str:
        bind = ", ".join(f"{k}={v}" for k, v in self.binds.items())
        if self.name == "train_model":  # the book prints each epoch's accuracy; the kit returns them
            body = (f"accuracies = []\n"
                    f"for _ in range(epochs):\n"
                    f"    {self.own}({self.call})\n"
                    f"    accuracies.append(_accuracy(model, valid_dl, metric))\n"
                    f"return accuracies")
        else:
            body = f"return {self.own}({self.call})"
        return (f"def {self.name}({self.kit_params}):\n    _bind({bind})\n    try:\n"
                + textwrap.indent(body, "        ") + "\n"
                f"    except NameError as _err:\n        _explain_name(_err, {self.reads!r})\n        raise\n")


def book_adapter(form: BookForm) -> Adapter:
    call = "model, 1" if form.name == "train_model" else form.call
    return Adapter(form.name, form.kit_params, f"_book_{form.name}", call, dict(form.binds),
                   tuple(a for a in call.split(", ") if a.isidentifier()))


def own_adapter(name: str, kit: list[str], mapping: dict[str, str], form: BookForm | None) -> Adapter:
    """The kit's `name` calling the learner's own signature, each parameter given the kit's argument
    it stands for (an optimizer made of lr and params where the kit passes those)."""
    args = []
    for kit_arg in mapping.values():
        if kit_arg == "opt" and "opt" not in kit:
            kit_arg = "_KitOptim(params, lr)"
        elif kit_arg == "epochs" and name == "train_model":
            kit_arg = "1"  # the adapter runs the epochs, one at a time
        args.append(kit_arg)
    consumed = tuple(mapping.values()) + (("lr", "params") if "_KitOptim(params, lr)" in args else ())
    return Adapter(name, ", ".join(kit), f"_own_{name}", ", ".join(args), dict(form.binds) if form else {}, consumed)


def signature(node) -> str:
    if not isinstance(node, ast.FunctionDef):
        return f"class {node.name}"
    return f"{node.name}({', '.join(a.arg for a in node.args.args)})"


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


KIT_FILE = "<fastgroup: the kit's stand-ins>"  # their lines are the kit's: never shown as the learner's
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


def mismatch_stub(name: str, message: str) -> str:
    return f"def {name}(*args, **kwargs):\n    raise SignatureNotMatched({message!r})\n"


def by_name(found: Found, kit: list[str]) -> dict[str, str] | None:
    node = found.node
    if not isinstance(node, ast.FunctionDef) or node.args.vararg or node.args.kwonlyargs:
        return None
    return params_by_name([a.arg for a in node.args.args], kit, len(node.args.defaults))


def reordered(mapping: dict[str, str] | None, positional: list[str]) -> bool:
    """Whether the learner's parameters, read by their names, stand for other arguments than their places say."""
    return mapping is not None and list(mapping.values()) != positional[:len(mapping)]


def own_names(scan_: Scan) -> set[str]:
    """The names the notebook itself binds at the top level: plain assignments, blocks, broken cells."""
    names = set(scan_.broken_names)
    for statement in scan_.statements:
        names |= set(targets(statement.node)) | block_binds(statement.node)
    return names


def reads_of(found: Found, scan_: Scan) -> set[str]:
    """The module-level names a definition reads, with those its own helpers read (transitively)."""
    last = {f.node.name: f for f in scan_.defs}
    seen, queue, names = set(), [found], set()
    while queue:
        current = queue.pop()
        if current.node.name in seen:
            continue
        seen.add(current.node.name)
        free = free_reads(current.node)
        names |= free
        queue += [last[n] for n in free if n in last]
    return names


def training_loader_read(found: Found, scan_: Scan, own: set[str]) -> str | None:
    """validate_epoch's (or its caller's) read of a training loader: the name, or None."""
    last = {f.node.name: f for f in scan_.defs}
    validate = found if found.node.name == "validate_epoch" else None
    if validate is None and "validate_epoch" in reads_of(found, scan_):
        validate = last.get("validate_epoch")
    if validate is None:
        return None
    return next((n for n in sorted(free_reads(validate.node)) if n in own and ROLES["dl"](n)), None)


def where_assigned(name: str, scan_: Scan) -> str:
    found = [s for s in scan_.statements if name in targets(s.node)]
    return found[-1].where if found else "no cell of the notebook"


def resolve_globals(adapter: Adapter | None, found: Found, scan_: Scan, own: set[str]) -> set[str]:
    """Bind the learner's own globals that play the book's parts (into the adapter) and name the
    mistake of validating on the training loader; the names left for the slice."""
    defined = {f.node.name for f in scan_.defs} | scan_.imported | BUILTINS | {"torch", "nn", "F"}
    reads = reads_of(found, scan_) - defined
    binds = adapter.binds if adapter else {}
    mine = (reads & own) - set(binds)
    wrong = training_loader_read(found, scan_, own)
    if wrong and adapter is not None:
        why = (f"validate_epoch reads `{wrong}`, a training loader ({where_assigned(wrong, scan_)}): it measures "
               "accuracy on the digits the model learns from; validate on the validation loader (the book's valid_dl)")
        binds[wrong] = f"_Mistake({why!r})"
        mine.discard(wrong)
    if adapter is None:
        return mine
    consumed = set(adapter.consumed)
    unread = {g for g, v in binds.items() if g not in reads and v not in consumed and not v.startswith("_Mistake")}
    unread |= {a for a in (p.split("=")[0].strip() for p in adapter.kit_params.split(","))
               if a and a not in binds.values() and a not in consumed}
    for name, role in pair_roles(mine, unread).items():
        binds[name] = binds.get(role, role)
        adapter.paired[name] = role
        mine.discard(name)
    adapter.reads = tuple(sorted(reads - set(binds)))
    return mine


@cache
def kit_bound() -> set[str]:
    """The names the kit's own parts of a step module bind (its imports and stand-ins)."""
    return set().union(*(module_bindings(code) for code in (*BASE_IMPORTS, SUPPORT + BOOK_STAND_IN, STAND_INS,
                                                             KIT_SUPPORT)))


def step_module(step: str, scan_: Scan, source: str) -> tuple[str | None, list[str], str | None]:
    """(module text, what was used, why the step is absent) for one step."""
    pieces, used, absent_names = [], [], []
    book_by_name = {f.name: f for f in book_of(step).functions}
    statement_by_name = {f.name: f for f in book_of(step).statements}
    own = own_names(scan_)
    wanted: set[str] = set()
    supplied: set[str] = set()
    for name, params in kit_names(step).items():
        kit = last_def(scan_, name, params)
        form = book_by_name.get(name)
        book = last_def(scan_, name, form.params) if form else None
        chosen = max((f for f in (kit, book) if f), key=lambda f: (f.cell, f.node.lineno), default=None)
        kit_args = kit_params(step).get(name, [])
        latest = last_def(scan_, name) if params >= 0 else None
        mapping = by_name(chosen or latest, kit_args) if (chosen or latest) and params >= 0 else None
        positional = kit_args if chosen is kit else (form.call.replace(", 1", ", epochs").split(", ") if form else [])
        adapter = None
        if chosen is not None and not reordered(mapping, positional) and chosen is kit:
            pieces.append(kit.text)
            used.append(f"{name}: {kit.where}")
            wanted |= resolve_globals(None, kit, scan_, own)
            continue
        how = ""
        if chosen is not None and not reordered(mapping, positional):
            pieces.append(renamed(book, f"_book_{name}"))
            adapter = book_adapter(form)
        elif (chosen or latest) is not None and mapping is not None:
            chosen = chosen or latest
            pieces.append(renamed(chosen, f"_own_{name}"))
            adapter = own_adapter(name, kit_args, mapping, form)
            how = f" (its parameters by their names: {adapter.call})"
        elif latest is not None:
            expected = f"{name}({', '.join(kit_args)})" + (f" or the book's {name}({form.call})" if form else "")
            message = (f"{signature(latest.node)} ({latest.label}) takes other arguments than the kit's {expected}, "
                       "and its parameters' names do not say which is which: name them as the kit does")
            pieces.append(mismatch_stub(name, message))
            used.append(f"{name}: {latest.where} (its signature is not the kit's: see the check)")
            continue
        if adapter is not None:
            chosen = chosen or book
            wanted |= resolve_globals(adapter, chosen, scan_, own)
            supplied |= {g for g in (form.binds if form else {}) if g not in ("mnist_loss", "batch_accuracy")}
            pieces.append(adapter.text())
            if adapter.paired:
                how += " (" + ", ".join(f"{n} as the book's {r}" for n, r in sorted(adapter.paired.items())) + \
                    ": the kit's)"
            used.append(f"{name}: {chosen.where}{how}")
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
    own_defs = set(kit_names(step)) | {f"_book_{name}" for name in kit_names(step)} | {
        f"_own_{name}" for name in kit_names(step)}
    for name, params in book_of(step).helpers:
        helper = last_def(scan_, name, params)
        if helper is not None:
            pieces.insert(0, helper.text)
            own_defs.add(name)
    broken = {n: scan_.broken[order] for n, order in scan_.broken_names.items()}
    defs = {f.node.name for f in scan_.defs}
    trainers = training_defs({f.node.name: f.node for f in scan_.defs})
    found_slice = backward_slice(wanted, scan_.statements, defs, trainers, broken)
    for name in sorted(found_slice.missing):
        used.append(f"{name}: {found_slice.missing[name]}")
    if found_slice.statements:
        names = [n for s in found_slice.statements for n in targets(s.node)]
        cells = sorted({s.label for s in found_slice.statements}, key=lambda c: int(re.sub(r"\D", "", c) or 0))
        used.append(f"{', '.join(dict.fromkeys(names))}: your own globals ({', '.join(cells)}), run in the sandbox on "
                    "the kit's data")
    seeds = pieces + [f"{n}\n" for n in sorted(found_slice.defs)]
    helpers = [guarded(f.text) for f in carried(seeds, scan_, own_defs)]
    written = lighter([line for text in scan_.imports for line in rewritten(text)], "\n\n".join(helpers + pieces),
                      kit_bound(), runs_own_globals=bool(found_slice.statements))
    imports = [f"try:\n    {line}\nexcept Exception:  # noqa: BLE001\n    pass" if "\n" not in line else guarded(line)
               for line in written]
    note = (f"for {step} the kit supplies the book's {', '.join(sorted(supplied))} (name yours so, or take them as "
            "arguments)") if supplied else ""
    text = "\n\n".join([
        f'"""{step}, as found in {source} by fastgroup (nothing of it was run to find it)."""',
        "\n".join(BASE_IMPORTS),
        f"exec(compile({SUPPORT + BOOK_STAND_IN!r}, {KIT_FILE!r}, 'exec'))  # the kit's stand-ins (own_globals.py)",
        "\n".join(imports), KIT_SUPPORT, f"exec(compile({STAND_INS!r}, {KIT_FILE!r}, 'exec'))  # imports.py",
        *helpers, *pieces,
        slice_text(found_slice, note),
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
    """Whether a step file written for the kit defines one of the step's functions the book's way,
    or with the kit's parameter names in another order (`train_epoch(dl, model, ...)`): either is
    adapted, never called the kit's way into a TypeError."""
    try:
        tree = parse(text)
    except SyntaxError:
        return False
    forms = {f.name: f.params for f in book_of(step).functions}
    wanted = kit_names(step)

    def own_order(node) -> bool:
        kit = kit_params(step).get(node.name, [])
        return bool(kit) and reordered(by_name(Found(0, node, ""), kit), kit)

    return any(
        isinstance(node, ast.FunctionDef) and (
            (node.name in forms and len(node.args.args) == forms[node.name]
             and len(node.args.args) != wanted.get(node.name))
            or (node.name in wanted and own_order(node)))
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
