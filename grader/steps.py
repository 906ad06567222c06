"""The ordered steps of the chapter. Ids are stable: they key the store and the notebook cells."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    section: str  # the chapter section it comes from
    trains: bool  # whether grading trains a model on the data set
    bonus: bool = False


STEPS: tuple[Step, ...] = (
    Step("pixel_similarity", "Pixel similarity baseline", "First Try: Pixel Similarity", True),
    Step("init_params", "Initialising parameters", "Stochastic Gradient Descent", False),
    Step("linear1", "Data set and linear model", "Stochastic Gradient Descent", False),
    Step("mnist_loss", "The loss function", "Sigmoid", False),
    Step("calc_grad", "Computing gradients", "Putting It All Together", False),
    Step("train_epoch", "One epoch of SGD", "Putting It All Together", True),
    Step("batch_accuracy", "Batch accuracy", "Putting It All Together", False),
    Step("validate_epoch", "Validating an epoch", "Putting It All Together", False),
    Step("basic_optim", "BasicOptim", "Creating an Optimizer", True),
    Step("train_model", "The training loop", "Creating an Optimizer", True),
    Step("simple_net", "Adding a non-linearity", "Adding a Nonlinearity", True),
    Step("learner", "fastai Learner", "Creating an Optimizer", True),
    Step("resnet18", "Going deeper: ResNet-18", "Going Deeper", True),
    # Bonus steps (the chapter's "Further Research"): graded alike, counted apart from the core 100.
    Step("softmax", "Softmax and cross-entropy", "Further Research", False, bonus=True),
    Step("multiclass_linear", "A linear model for ten digits", "Further Research", True, bonus=True),
    Step("multiclass_net", "A two-layer net for ten digits", "Further Research", True, bonus=True),
    Step("my_learner", "A Learner of your own", "Further Research", True, bonus=True),
)

STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS if not s.bonus)
BONUS_IDS: tuple[str, ...] = tuple(s.id for s in STEPS if s.bonus)
ALL_IDS: tuple[str, ...] = STEP_IDS + BONUS_IDS
BY_ID: dict[str, Step] = {s.id: s for s in STEPS}


def get_step(step_id: str) -> Step:
    """The step with this id, or a KitError listing the valid ids."""
    from grader.errors import KitError

    if step_id not in BY_ID:
        raise KitError(f"unknown step '{step_id}': choose one of {', '.join(STEP_IDS)}")
    return BY_ID[step_id]
