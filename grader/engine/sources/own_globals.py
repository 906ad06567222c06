"""A learner's own globals: where the module-level names their functions read come from.

A notebook's `linear1(xb)` may read `b` (from `b = init_params(1)`) where the book reads `bias`;
an `is_3(x)` may read `ideal_three = stacked_threes.mean(0)`. Two ways give such a name its value,
both decided here by reading the cells (ast; nothing runs on the host):

- its role: a name that plays the part of one of the book's globals the kit binds (`b` for
  `bias`, `train_dl` for `dl`) is bound to the kit's argument for it, as the book's name is;
- its slice: otherwise the top-level assignments that bind it, and those they depend on (a
  backward slice of assignments only), go into the step module and run inside the sandbox when it
  loads, with the kit's data behind `untar_data(URLs.MNIST_SAMPLE)` (imports.py).

A statement that trains, downloads, plots or prints is never part of a slice: the name it binds
is bound to a stand-in that says so in one line when the learner's code uses it, as is a name
assigned only inside a block, or in a cell that does not parse.
"""

import ast
import builtins
import re
from dataclasses import dataclass, field

TRAINS = {"fit", "fit_one_cycle", "fine_tune", "fit_flat_cos", "fit_sgdr", "lr_find", "backward", "train_model",
          "train_epoch"}
DOWNLOADS = {"download_url", "urlretrieve", "urlopen", "download_images", "search_images_bing", "search_images_ddg",
             "download_data", "download_file"}
DOWNLOAD_MODULES = {"requests", "urllib", "wget", "httpx", "kaggle", "gdown"}
PLOTS = {"show_image", "show_images", "show_batch", "show_results", "plot", "imshow", "show", "plot_function",
         "plot_loss", "plot_confusion_matrix", "plot_top_losses", "hist", "scatter", "figure", "subplots",
         "display", "savefig", "plot_metrics"}
PLOT_MODULES = {"plt", "matplotlib", "pyplot", "sns", "seaborn", "px"}
PRINTS = {"print", "input", "pprint"}
BUILTINS = set(dir(builtins))


def call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def call_base(node: ast.Call) -> str:
    func = node.func
    while isinstance(func, ast.Attribute):
        func = func.value
    return getattr(func, "id", "")


def reads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def free_reads(node: ast.FunctionDef | ast.ClassDef) -> set[str]:
    """The module-level names a definition reads: loaded, never bound inside it, not its parameters."""
    bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del)}
    for inner in ast.walk(node):
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = inner.args
            bound |= {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
            bound |= {a.arg for a in (args.vararg, args.kwarg) if a}
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and inner is not node:
            bound.add(inner.name)
        if isinstance(inner, ast.Global | ast.Nonlocal):
            bound -= set(inner.names)
        if isinstance(inner, ast.ExceptHandler) and inner.name:
            bound.add(inner.name)
        if isinstance(inner, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in inner.names}
    return reads(node) - bound - BUILTINS


def targets(node: ast.stmt) -> list[str]:
    """The names a plain top-level assignment binds (`a = ...`, `a, b = ...`, `a += ...`)."""
    if isinstance(node, ast.Assign):
        found = node.targets
    elif isinstance(node, ast.AugAssign | ast.AnnAssign) and node.value is not None:
        found = [node.target]
    else:
        return []
    names = []
    for target in found:
        elements = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
        if not all(isinstance(e, ast.Name) for e in elements):
            return []  # `x[0] = ...`, `obj.a = ...`: it binds no name of its own
        names += [e.id for e in elements]
    return names


def block_binds(node: ast.stmt) -> set[str]:
    """The names a compound statement (for, while, if, with, try) binds somewhere inside it."""
    if not isinstance(node, ast.For | ast.While | ast.If | ast.With | ast.Try | ast.AsyncFor | ast.AsyncWith):
        return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


@dataclass
class Statement:
    """One top-level statement of the notebook, in the order the cells run."""

    order: int
    label: str  # `In [7]` or `cell 7`
    node: ast.stmt
    text: str

    @property
    def line(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return first[:80]

    @property
    def where(self) -> str:
        return f"{self.label}: `{self.line}`"


def training_defs(defs: dict[str, ast.AST]) -> set[str]:
    """The learner's functions that train: they call a training function, theirs or fastai's."""
    calls = {name: {call_name(c) for c in ast.walk(node) if isinstance(c, ast.Call)} for name, node in defs.items()}
    found = set()
    while True:
        more = {name for name, called in calls.items() if name not in found and called & (TRAINS | found)}
        if not more:
            return found
        found |= more


def cut_reason(node: ast.AST, trainers: set[str]) -> str | None:
    """Why a statement is never run by the kit: it trains, downloads, plots or prints (None: it may run)."""
    for call in (c for c in ast.walk(node) if isinstance(c, ast.Call)):
        name, base = call_name(call), call_base(call)
        if name in TRAINS or name in trainers:
            return "trains"
        if name in DOWNLOADS or base in DOWNLOAD_MODULES:
            return "downloads"
        if name in PLOTS or base in PLOT_MODULES:
            return "plots"
        if name in PRINTS:
            return "prints"
    return None


@dataclass
class Slice:
    """What the step module needs for the learner's own globals."""

    statements: list[Statement] = field(default_factory=list)  # run in the sandbox, in this order
    missing: dict[str, str] = field(default_factory=dict)  # a name -> why it has no value here (one line)
    defs: set[str] = field(default_factory=set)  # the learner's functions the statements call


def backward_slice(wanted: set[str], statements: list[Statement], defs: set[str], trainers: set[str],
                   broken: dict[str, str]) -> Slice:
    """The assignments the `wanted` names come from, and those they depend on, in the notebook's order."""
    assigned: dict[str, list[Statement]] = {}
    in_blocks: dict[str, Statement] = {}
    for statement in statements:
        for name in targets(statement.node):
            assigned.setdefault(name, []).append(statement)
        for name in block_binds(statement.node):
            in_blocks.setdefault(name, statement)
    out = Slice()
    taken: set[int] = set()
    queue = [(name, len(statements) + 1) for name in sorted(wanted)]
    seen: set[tuple[str, int]] = set()
    while queue:
        name, before = queue.pop()
        if (name, before) in seen:
            continue
        seen.add((name, before))
        earlier = [s for s in assigned.get(name, []) if s.order < before]
        fresh = [i for i, s in enumerate(earlier) if not isinstance(s.node, ast.AugAssign)]
        earlier = earlier[fresh[-1]:] if fresh else earlier  # what the last plain assignment binds, and after
        if not earlier:
            if name in defs or name in out.missing:
                continue
            if name in in_blocks and in_blocks[name].order < before:
                block = in_blocks[name]
                kind = type(block.node).__name__.lower().removeprefix("async")
                out.missing[name] = (f"`{name}` is assigned only inside a `{kind}` block ({block.where}), which the "
                                     "kit never runs")
            elif name in broken:
                out.missing[name] = f"`{name}` is assigned in {broken[name]}"
            continue
        cut = next(((s, why) for s in earlier if (why := cut_reason(s.node, trainers))), None)
        if cut:
            statement, why = cut
            out.missing[name] = f"`{name}` comes from a cell that {why} ({statement.where}), which the kit never runs"
            continue
        for statement in earlier:
            if statement.order in taken:
                continue
            taken.add(statement.order)
            value = statement.node.value
            used = reads(value) | ({name} if isinstance(statement.node, ast.AugAssign) else set())
            out.defs |= used & defs
            queue += [(n, statement.order) for n in sorted(used - BUILTINS)]
    out.statements = [s for s in statements if s.order in taken]
    return out


def names_the_sample(value: ast.expr) -> bool:
    """A path to a copy of MNIST_SAMPLE of the learner's own (`Path('/content/mnist_sample')`)."""
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and "mnist_sample" in n.value.lower()
               for n in ast.walk(value)) and not any(isinstance(n, ast.Call) and call_name(n) == "untar_data"
                                                     for n in ast.walk(value))


def slice_text(found: Slice, supplied: str) -> str:
    """The slice as the step module runs it: each statement on its own, a failure binding its names
    to a stand-in that says why (one line) when the learner's code uses them."""
    lines = [f"_SUPPLIED = {supplied!r}"]
    for name, why in sorted(found.missing.items()):
        lines.append(f"{name} = _Missing({why!r})")
    for statement in found.statements:
        names = targets(statement.node)
        body = ast.unparse(statement.node)
        if len(names) == 1 and isinstance(statement.node, ast.Assign) and names_the_sample(statement.node.value):
            body = f"{names[0]} = _kit_data()"  # a folder of MNIST_SAMPLE's own (Colab's /content/...): the kit's
        handler = "\n".join(f"    {n} = _Missing(_failed({n!r}, {statement.where!r}, _err))" for n in names)
        lines.append(f"try:  # {statement.label}\n    {body}\nexcept Exception as _err:  # noqa: BLE001\n{handler}")
    return "\n".join(lines) + "\n"


SUPPORT = '''
class NotResolved(NameError):
    """A global of the notebook's that has no value where the kit runs its code (the message: why)."""


class ValidatingOnTrainingData(Exception):
    """validate_epoch reads the training loader (the message: which name, and where it was made)."""


_Unresolved = NotResolved
_SUPPLIED = ""


class SignatureNotMatched(TypeError):
    """The learner's function takes arguments the kit cannot tell apart (the message: both signatures)."""


class _KitOptim:
    """The kit's lr and params as the optimizer a learner's function takes: the chapter's step and zero_grad."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def step(self, *args, **kwargs):
        for p in self.params:
            p.data -= p.grad.data * self.lr

    def zero_grad(self, *args, **kwargs):
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()


def _explain_name(err, reads):
    """A NameError on a module-level name the learner's code reads, said in the kit's words."""
    name = getattr(err, "name", None)
    if isinstance(err, NotResolved) or name not in reads:
        return
    raise NotResolved(f"`{name}` is read by your code but no cell assigns or imports it at the top level, where "
                      f"the kit can take it from" + (f"; {_SUPPLIED}" if _SUPPLIED else "")) from None


def _failed(name, where, err):
    if isinstance(err, NotResolved):
        return f"`{name}` ({where}) needs what cannot be made here: {err}"
    return f"`{name}` ({where}) raised {type(err).__name__}: {str(err)[:200]} when run on the kit's data"


def _raise_missing(value):
    error = type(value)._error
    why = object.__getattribute__(value, "_why")
    raise error(why + (f"; {_SUPPLIED}" if _SUPPLIED and error is NotResolved else ""))


class _Missing:
    """Stands for a global with no value here: any use raises NotResolved with the reason."""

    _error = NotResolved

    def __init__(self, why):
        object.__setattr__(self, "_why", why)

    def __getattr__(self, name):
        _raise_missing(self)

    def _use(self, *args, **kwargs):
        _raise_missing(self)

    __call__ = __iter__ = __len__ = __bool__ = __getitem__ = __float__ = __int__ = __index__ = _use
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __matmul__ = __rmatmul__ = _use
    __truediv__ = __rtruediv__ = __lt__ = __gt__ = __le__ = __ge__ = __neg__ = __pow__ = __rpow__ = _use

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        for value in (*args, *(kwargs or {}).values()):
            for item in (value if isinstance(value, list | tuple) else (value,)):
                if isinstance(item, _Missing):
                    _raise_missing(item)
        raise NotResolved("a global of the notebook's has no value here")


class _Mistake(_Missing):
    """A global the learner's code reads by mistake: any use names the mistake, in one line."""

    _error = ValidatingOnTrainingData
'''


# ---------------------------------------------------------------- roles
def _lower(name: str) -> str:
    return name.lower()


def _is_valid(name: str) -> bool:
    return bool(re.search(r"val|test|dev", name.lower()))


def _is_train_loader(name: str) -> bool:
    low = name.lower()
    return not _is_valid(name) and (low in {"dl", "loader", "dataloader", "data_loader", "train"}
                                    or ("train" in low or "trn" in low) and ("dl" in low or "load" in low))


ROLES = {  # the book's global -> does a learner's name look like it
    "weights": lambda n: _lower(n) in {"w", "wts", "weight", "weights", "coef", "theta"}
    or (_lower(n).startswith("w") and not n[-1].isdigit()),
    "bias": lambda n: _lower(n) in {"b", "bias", "biases", "intercept", "b0"}
    or (_lower(n).startswith("b") and not n[-1].isdigit() and "batch" not in _lower(n) and _lower(n) != "bs"),
    "w1": lambda n: _lower(n).startswith(("w", "l1_w")) and n.endswith("1"),
    "b1": lambda n: _lower(n).startswith(("b", "l1_b")) and n.endswith("1"),
    "w2": lambda n: _lower(n).startswith(("w", "l2_w")) and n.endswith("2"),
    "b2": lambda n: _lower(n).startswith(("b", "l2_b")) and n.endswith("2"),
    "dl": _is_train_loader,
    "valid_dl": lambda n: _is_valid(n) and ("dl" in _lower(n) or "load" in _lower(n) or _lower(n) in {"valid", "val"}),
    "opt": lambda n: "opt" in _lower(n),
    "mnist_loss": lambda n: "loss" in _lower(n) or "crit" in _lower(n),
    "batch_accuracy": lambda n: "acc" in _lower(n) or "metric" in _lower(n),
    "lr": lambda n: _lower(n) in {"lr", "learning_rate", "alpha", "eta", "step_size"} or "lr" in _lower(n),
    "params": lambda n: "param" in _lower(n),
}
# mean3 and mean7 have no role here: the kit's arguments are the data's own means, so a learner's
# `ideal_three = stacked_threes.mean(0)` is run as written (its slice) on the same data.


def pair_roles(free: set[str], unread: set[str]) -> dict[str, str]:
    """The learner's free globals that play the part of the book's globals not read: name -> book name.
    A name pairs with the one role it looks like; the last one of each left pairs by elimination,
    unless it looks like another role (a training loader is never the validation one)."""
    unread = {r for r in unread if r in ROLES}
    paired = {}
    for role in sorted(unread):
        looks = ROLES.get(role)
        candidates = [n for n in sorted(free) if looks and looks(n) and n not in paired]
        if len(candidates) == 1 and sum(1 for r in unread if ROLES.get(r) and ROLES[r](candidates[0])) == 1:
            paired[candidates[0]] = role
    left_roles = sorted(unread - set(paired.values()))
    left_names = sorted(free - set(paired))
    if len(left_roles) == 1 and len(left_names) == 1:
        name = left_names[0]
        if not any(looks(name) for role, looks in ROLES.items() if role != left_roles[0]):
            paired[name] = left_roles[0]
    return paired


# ---------------------------------------------------------------- parameters by name
PARAM_ROLES = {  # the kit's parameter -> does a learner's parameter name look like it
    "model": lambda n: _lower(n) in {"model", "m", "net", "mdl", "linear_model", "module", "f", "fn"}
    or "model" in _lower(n) or "net" in _lower(n),
    "dl": lambda n: _is_train_loader(n) or _lower(n) in {"data", "batches", "dls_train"},
    "valid_dl": lambda n: _is_valid(n) or _lower(n) in {"dl", "loader", "dataloader", "data"},
    "lr": ROLES["lr"],
    "params": ROLES["params"],
    "loss_func": lambda n: "loss" in _lower(n) or "crit" in _lower(n),
    "metric": lambda n: "acc" in _lower(n) or "metric" in _lower(n),
    "opt": lambda n: "opt" in _lower(n),
    "epochs": lambda n: "epoch" in _lower(n) or _lower(n) in {"n", "n_iter", "iters", "steps"},
    "xb": lambda n: _lower(n) in {"x", "xb", "xs", "batch", "inputs", "x_batch", "input", "images", "data"},
    "yb": lambda n: _lower(n) in {"y", "yb", "ys", "targets", "labels", "y_batch", "target", "label"},
}


def params_by_name(params: list[str], kit_params: list[str], defaults: int) -> dict[str, str] | None:
    """The learner's parameters (in their order) as the kit's arguments they stand for, or None when
    one with no default matches none (or several). `opt` may stand where the kit has lr and params."""
    kit = set(kit_params) | ({"opt"} if {"lr", "params"} <= set(kit_params) else set())
    mapped = {}
    for index, param in enumerate(params):
        if param in kit and param not in mapped.values():
            mapped[param] = param
            continue
        matches = [k for k in sorted(kit - set(mapped.values())) if PARAM_ROLES.get(k, lambda n: False)(param)]
        if len(matches) == 1:
            mapped[param] = matches[0]
        elif index < len(params) - defaults:
            return None
    return mapped
