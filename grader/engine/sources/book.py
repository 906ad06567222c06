"""The book's ways of writing each step, beside the kit's: what a learner's notebook holds.

The kit's step functions take everything they use as arguments; the book's read globals
(`linear1(xb)` reads `weights` and `bias`). A BookForm says how one of the book's functions
becomes the kit's: which parameters it keeps and which globals the kit binds to the kit's own
arguments before calling it. A StatementForm says how top-level statements the book runs once
(`simple_net = nn.Sequential(...)`, `learn = Learner(dls, ...)`) become the kit's function that
builds the same thing on the kit's inputs. BOOK holds them step by step (StepBook: one entry per
step the book writes otherwise). Nothing here runs; extract.py writes the modules.

They live here, not beside each step's checks: extract.py reads them in the grading process,
which never imports torch, and every check module does (and registers its checks) as it loads.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BookForm:
    """`def name(params)` as the book writes it, for the kit's `kit_params`."""

    name: str
    params: int  # how many parameters the book's version takes
    kit_params: str  # the kit's signature, as written in the adapter
    call: str  # how the adapter calls the book's function
    binds: dict[str, str] = field(default_factory=dict)  # the global read -> the kit argument bound to it


@dataclass(frozen=True)
class StatementForm:
    """The kit's `name(kit_params)` made from the book's top-level assignments to `targets`."""

    name: str
    kit_params: str
    targets: tuple[str, ...]  # the assigned names, in the order they are run
    aliases: dict[str, str] = field(default_factory=dict)  # a name the statements read -> the kit argument
    returns: str = ""  # the expression returned
    calls: dict[str, tuple[str, ...]] = field(default_factory=dict)  # a target -> the calls that make it the one


@dataclass(frozen=True)
class StepBook:
    """How the book writes one step: its functions that read globals, the top-level statements
    that build what the kit's function returns, and the book's helpers its code calls."""

    functions: tuple[BookForm, ...] = ()
    statements: tuple[StatementForm, ...] = ()
    helpers: tuple[tuple[str, int], ...] = ()  # (name, parameters): defined beside the step's code


# Each step the book writes otherwise than the kit, in chapter order: one entry holds all of it.
BOOK: dict[str, StepBook] = {
    "pixel_similarity": StepBook(functions=(
        BookForm("is_3", 1, "x, mean3, mean7", "x", {"mean3": "mean3", "mean7": "mean7"}),
    )),
    "linear1": StepBook(
        functions=(BookForm("linear1", 1, "xb, weights, bias", "xb", {"weights": "weights", "bias": "bias"}),),
        statements=(StatementForm("make_dataset", "threes, sevens", ("train_x", "train_y"),
                                  {"stacked_threes": "threes", "stacked_sevens": "sevens", "three_tensors": "threes",
                                   "seven_tensors": "sevens"}, "train_x, train_y"),),
    ),
    "calc_grad": StepBook(functions=(
        BookForm("calc_grad", 3, "xb, yb, model, loss_func", "xb, yb, model", {"mnist_loss": "loss_func"}),
    )),
    "train_epoch": StepBook(functions=(
        BookForm("train_epoch", 3, "model, dl, lr, params, loss_func", "model, lr, params",
                 {"dl": "dl", "mnist_loss": "loss_func"}),
    )),
    "validate_epoch": StepBook(functions=(
        BookForm("validate_epoch", 1, "model, valid_dl, metric", "model",
                 {"valid_dl": "valid_dl", "batch_accuracy": "metric"}),
    )),
    "train_model": StepBook(
        functions=(BookForm("train_model", 2, "model, dl, valid_dl, opt, epochs, loss_func, metric", "model, 1",
                            {"dl": "dl", "valid_dl": "valid_dl", "opt": "opt", "mnist_loss": "loss_func",
                             "batch_accuracy": "metric"}),),
        statements=(StatementForm("new_model_and_opt", "lr, opt_func", ("linear_model", "opt"),
                                  {"SGD": "opt_func", "BasicOptim": "opt_func"}, "linear_model, opt",
                                  {"linear_model": ("Linear",), "opt": ("SGD", "BasicOptim")}),),
        helpers=(("train_epoch", 1),),  # the book's second train_epoch, `train_epoch(model)` with a global `opt`
    ),
    "simple_net": StepBook(
        functions=(BookForm("simple_net", 1, "xb, w1, b1, w2, b2", "xb",
                            {"w1": "w1", "b1": "b1", "w2": "w2", "b2": "b2"}),),
        statements=(StatementForm("simple_net_module", "n_hidden=30", ("simple_net",), {}, "simple_net",
                                  {"simple_net": ("Sequential",)}),),
    ),
    "learner": StepBook(statements=(
        StatementForm("make_learner", "dls, model, loss_func, metric", ("learn",),
                      {"mnist_loss": "loss_func", "batch_accuracy": "metric"}, "learn", {"learn": ("Learner",)}),
    )),
    "resnet18": StepBook(statements=(
        StatementForm("make_resnet_learner", "dls", ("learn",), {}, "learn",
                      {"learn": ("vision_learner", "cnn_learner")}),
    )),
}

BOOK_HIDDEN = 30  # the book's hidden layer: simple_net_module(n_hidden) puts n_hidden where the book has 30


def book_of(step: str) -> StepBook:
    """The book's forms of a step (none: the book writes it as the kit does)."""
    return BOOK.get(step, StepBook())
