"""A step module that needs nothing of fastai's but what torch, numpy and Python give (and
fastai's `tensor`) does not import all of fastai: its `from fastai.vision.all import *` (or
fastbook's, or fastai2's) becomes the few plain imports it reads, so the sandbox that grades it
imports fastai first only where the code needs it (seconds of a notebook's grade).

Told statically (symtable: Python's own scoping), and only where it is sure: a module that reads
any other name the star would give, reads names by name (globals(), eval), calls a method fastai
adds to tensors or paths, or runs top-level code of the notebook's own (a slice) keeps its star.
"""

import ast
import builtins
import contextlib
import re
import symtable

# What the star gives that is the very same object without fastai (tests/engine/test_light.py
# compares each with fastai's own), and the import that gives it.
LIGHT = {
    "torch": "import torch",
    "nn": "from torch import nn",
    "F": "import torch.nn.functional as F",
    "Tensor": "from torch import Tensor",
    "np": "import numpy as np",
    "partial": "from functools import partial",
    **{m: f"import {m}" for m in ("math", "random", "os", "sys", "re", "json", "itertools", "functools",
                                  "collections", "operator", "time", "warnings", "typing", "string")},
}
# fastai's own `tensor` (lists, arrays and images to tensors) comes from fastai.torch_core, a
# third of fastai's import: a module that needs no other fastai name imports only that.
TORCH_CORE = "fastai.torch_core"
FROM_TORCH_CORE = {"tensor": f"from {TORCH_CORE} import tensor"}
FULL = ("fastai.vision.all",)  # what the book's notebook imports, and ResNet-18's step

# Methods fastai and fastcore add to torch's tensors and to pathlib's paths.
PATCHED = {"pca", "interp_1d", "set_meta", "__array_eq__", "ls", "delete", "load_array", "mk_write",
           "mkdir_perms", "normpath", "read_json", "read_jsonl", "readlines", "relpath", "save_array", "write_json"}
BINDS = "_bind"  # extract.py's adapters: _bind(weights=..., bias=...) sets the book's globals for a call
BY_NAME = {"globals", "vars", "locals", "eval", "exec", "__import__"}
FASTAI_IMPORT = re.compile(r"^\s*(from|import)\s+(fastai[\w.]*)", re.M)


def is_fastai_star(line: str) -> bool:
    try:
        node = ast.parse(line).body[0]
    except (SyntaxError, IndexError):
        return False
    return (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "fastai"
            and [a.name for a in node.names] == ["*"])


def module_bindings(code: str) -> set[str]:
    """The names a module binds at its top level (assigned, imported, defined), read with symtable."""
    table = symtable.symtable(code, "<kit>", "exec")
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}


def global_reads(code: str) -> set[str]:
    """The names `code` reads as module globals, in any scope."""
    found = set()

    def walk(table):
        for s in table.get_symbols():
            module_level = table.get_type() == "module"
            if s.is_referenced() and (module_level or s.is_global()):
                found.add(s.get_name())
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(code, "<step>", "exec"))
    return found


def star_needs(code: str, known: set[str]) -> set[str] | None:
    """The names the learner's `code` reads that neither it, `known` (the kit's own names) nor
    Python's builtins give; None when the module may need anything of fastai's."""
    try:
        tree = ast.parse(code)
        reads = global_reads(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if any(isinstance(n, ast.Name) and n.id in BY_NAME for n in ast.walk(tree)):
        return None
    if any(isinstance(n, ast.Attribute) and n.attr in PATCHED for n in ast.walk(tree)):
        return None
    bound_per_call = {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                      and n.func.id == BINDS for k in n.keywords}  # the book's globals, the kit's for each call
    return reads - module_bindings(code) - bound_per_call - known - set(dir(builtins))


def lighter(imports: list[str], learner_code: str, known: set[str], runs_own_globals: bool) -> list[str]:
    """`imports` (the step module's, in order) with fastai's star imports replaced by the plain
    imports of what the learner's code needs, where that is all it needs; else as they were."""
    stars = [i for i, line in enumerate(imports) if is_fastai_star(line)]
    if not stars or runs_own_globals:
        return imports
    needs = star_needs(learner_code, known)
    if needs is None:
        return imports
    # names bound by the learner's own imports before the last star: the star may give another
    # object under that name (`from torch import tensor`, then fastai's tensor)
    before = set()
    for line in imports[:stars[-1]]:
        if line not in LIGHT.values():
            with contextlib.suppress(SyntaxError, ValueError):
                before |= module_bindings(line)
    if before & global_reads(learner_code) or not needs <= set(LIGHT) | set(FROM_TORCH_CORE):
        return imports
    plain = [{**LIGHT, **FROM_TORCH_CORE}[name] for name in sorted(needs)]
    return [line for i, line in enumerate(imports) if i not in stars] + plain


def first_imports(step_module: str) -> tuple[str, ...]:
    """What a sandbox imports before grading this step module, so that no check's time limit pays
    for it: fastai.vision.all for a module that imports anything of fastai's, only fastai.torch_core
    for one that imports only that, else nothing beyond torch."""
    found = {m.group(2) for m in FASTAI_IMPORT.finditer(step_module)}
    if not found:
        return ()
    return (TORCH_CORE,) if found == {TORCH_CORE} else FULL
