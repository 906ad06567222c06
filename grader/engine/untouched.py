"""A step file the learner has not started: known from the file itself, without running it.

A stub's functions and methods only raise NotImplementedError; each of its checks would run the
learner's code in the sandbox just to see that error again. A file read here as untouched is
"not started" at once, and a grade of untouched stubs starts no judge. Anything else in the file
(a line of code in any function, top-level code, a file that does not parse) is graded as usual,
so this can only ever say "not started" for code that would have raised it.
"""

import ast
from pathlib import Path

from grader.core.errors import KitError
from grader.core.files import STEP_FILE_BYTES, read_inside
from grader.engine.loading import parse


def untouched(path: Path) -> str | None:
    """The stub's message ('mnist_loss: write mnist_loss ...') when every function and method in
    the file still only raises NotImplementedError; None when the learner has written anything."""
    try:
        tree = parse(read_inside(path, path.parent, STEP_FILE_BYTES).decode("utf-8"))
    except (KitError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    messages: list[str] = []
    for node in body_of(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        functions = body_of(node) if isinstance(node, ast.ClassDef) and not node.decorator_list else [node]
        for function in functions:
            message = stub_message(function)
            if message is None:
                return None
            messages.append(message)
    return messages[0] if messages else None


def body_of(node) -> list[ast.stmt]:
    """A module's or class's statements, without its docstring."""
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body


def stub_message(node) -> str | None:
    """The NotImplementedError message of a function whose body is that raise alone, else None."""
    if not isinstance(node, ast.FunctionDef) or node.decorator_list:
        return None
    body = body_of(node)
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return None
    raised = body[0].exc
    if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
        return f"write {node.name}"
    if (isinstance(raised, ast.Call) and isinstance(raised.func, ast.Name) and raised.func.id == "NotImplementedError"
            and not raised.keywords):
        args = raised.args
        if not args:
            return f"write {node.name}"
        if len(args) == 1 and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            return args[0].value
    return None
