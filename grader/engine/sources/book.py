"""The book's ways of writing each step, beside the kit's: what a learner's notebook holds.

The kit's step functions take everything they use as arguments; the book's read globals
(`linear1(xb)` reads `weights` and `bias`). A BookForm says how one of the book's functions
becomes the kit's: which parameters it keeps and which globals the kit binds to the kit's own
arguments before calling it. A StatementForm says how top-level statements the book runs once
(`simple_net = nn.Sequential(...)`, `learn = Learner(dls, ...)`) become the kit's function that
builds the same thing on the kit's inputs. Nothing here runs; extract.py writes the modules.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BookForm:
    """`def name(params)` as the book writes it, for the kit's `kit_params`."""

    step: str
    name: str
    params: int  # how many parameters the book's version takes
    kit_params: str  # the kit's signature, as written in the adapter
    call: str  # how the adapter calls the book's function
    binds: dict[str, str] = field(default_factory=dict)  # the global read -> the kit argument bound to it


@dataclass(frozen=True)
class StatementForm:
    """The kit's `name(kit_params)` made from the book's top-level assignments to `targets`."""

    step: str
    name: str
    kit_params: str
    targets: tuple[str, ...]  # the assigned names, in the order they are run
    aliases: dict[str, str] = field(default_factory=dict)  # a name the statements read -> the kit argument
    returns: str = ""  # the expression returned


BOOK_FORMS = (
    BookForm("pixel_similarity", "is_3", 1, "x, mean3, mean7", "x", {"mean3": "mean3", "mean7": "mean7"}),
    BookForm("linear1", "linear1", 1, "xb, weights, bias", "xb", {"weights": "weights", "bias": "bias"}),
    BookForm("calc_grad", "calc_grad", 3, "xb, yb, model, loss_func", "xb, yb, model", {"mnist_loss": "loss_func"}),
    BookForm("train_epoch", "train_epoch", 3, "model, dl, lr, params, loss_func", "model, lr, params",
             {"dl": "dl", "mnist_loss": "loss_func"}),
    BookForm("validate_epoch", "validate_epoch", 1, "model, valid_dl, metric", "model",
             {"valid_dl": "valid_dl", "batch_accuracy": "metric"}),
    BookForm("train_model", "train_model", 2, "model, dl, valid_dl, opt, epochs, loss_func, metric", "model, 1",
             {"dl": "dl", "valid_dl": "valid_dl", "opt": "opt", "mnist_loss": "loss_func",
              "batch_accuracy": "metric"}),
    BookForm("simple_net", "simple_net", 1, "xb, w1, b1, w2, b2", "xb",
             {"w1": "w1", "b1": "b1", "w2": "w2", "b2": "b2"}),
)

# The book's second train_epoch, `train_epoch(model)` with a global `opt`, is train_model's helper.
HELPER_FORMS = {"train_model": (("train_epoch", 1),)}

STATEMENT_FORMS = (
    StatementForm("linear1", "make_dataset", "threes, sevens", ("train_x", "train_y"),
                  {"stacked_threes": "threes", "stacked_sevens": "sevens", "three_tensors": "threes",
                   "seven_tensors": "sevens"}, "train_x, train_y"),
    StatementForm("train_model", "new_model_and_opt", "lr, opt_func", ("linear_model", "opt"),
                  {"SGD": "opt_func", "BasicOptim": "opt_func"}, "linear_model, opt"),
    StatementForm("simple_net", "simple_net_module", "n_hidden=30", ("simple_net",), {}, "simple_net"),
    StatementForm("learner", "make_learner", "dls, model, loss_func, metric", ("learn",),
                  {"mnist_loss": "loss_func", "batch_accuracy": "metric"}, "learn"),
    StatementForm("resnet18", "make_resnet_learner", "dls", ("learn",), {}, "learn"),
)

# What makes an assignment the statement the form wants: the call it makes.
STATEMENT_CALLS = {
    ("simple_net", "simple_net"): ("Sequential",),
    ("learner", "learn"): ("Learner",),
    ("resnet18", "learn"): ("vision_learner", "cnn_learner"),
    ("train_model", "linear_model"): ("Linear",),
    ("train_model", "opt"): ("SGD", "BasicOptim"),
}

BOOK_HIDDEN = 30  # the book's hidden layer: simple_net_module(n_hidden) puts n_hidden where the book has 30
