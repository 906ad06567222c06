"""grader/engine/departure.py: where a learner's epoch first leaves the reference's, in the order
the chapter computes it, with a cause only where exactly one fits."""

import runpy
from types import SimpleNamespace

import pytest

from grader.engine import drivers
from grader.engine.checks.train_epoch import epoch_trace, start
from grader.engine.departure import NO_GRADIENT, NOT_ZEROED, SIGN_ONLY, ZEROED_PARAMS, first_departure
from tests.support.kit import SOLUTIONS
from tests.support.planting import grade_step, plant

LR = 0.3


def epoch(update, zero=lambda p: p.grad.zero_(), targets=lambda y: y):
    """A train_epoch written the chapter's way, with `update`, `zero` and `targets` swappable."""

    def train_epoch(model, dl, lr, params, loss_func):
        for xb, yb in dl:
            loss_func(model(xb), targets(yb)).backward()
            for p in params:
                update(p, lr)
                zero(p)

    return SimpleNamespace(train_epoch=train_epoch)


def sgd(p, lr):
    p.data -= p.grad * lr


def departure_of(module):
    _, _, batches = start(0)
    trace = epoch_trace(module, 0, LR)
    return first_departure(trace, batches, LR, lambda x, p: drivers.linear1(x, p[:784].view(784, 1), p[784:]),
                           drivers.mnist_loss)


def test_the_reference_way_retraces_and_leaves_nothing_to_say():
    assert departure_of(epoch(sgd)) is None


def test_weights_zeroed_instead_of_their_gradients():
    found = departure_of(epoch(sgd, zero=lambda p: p.data.zero_()))
    assert found.line.startswith("batch 1: the loss matches; after the step every parameter is exactly 0 "
                                 "(the reference's: from ")
    assert found.cause == ZEROED_PARAMS


def test_an_update_without_the_gradient():
    def constant(p, lr):
        p.data -= lr

    found = departure_of(epoch(constant))
    assert found.line.startswith("batch 1: the loss matches; every parameter moved by exactly -0.3 (the reference: "
                                 "-lr x gradient, from ")
    assert found.cause == NO_GRADIENT


def test_an_update_by_the_gradients_sign():
    def by_sign(p, lr):
        p.data -= p.grad.sign() * lr

    found = departure_of(epoch(by_sign))
    assert "the update is lr x sign(gradient)" in found.line and found.cause == SIGN_ONLY


def test_gradients_left_for_the_next_batch():
    found = departure_of(epoch(sgd, zero=lambda p: None))
    assert found.line.startswith("batch 1: the update matches; the gradients left for the next batch are not zero")
    assert found.cause == NOT_ZEROED


@pytest.mark.parametrize(("update", "said"), [
    (lambda p, lr: p.data.add_(p.grad * lr), "yours is the expected with the sign flipped"),
    (lambda p, lr: p.data.sub_(p.grad * lr * 0.5), "yours is 0.5x the expected"),
])
def test_other_updates_get_the_relation_and_no_cause(update, said):
    found = departure_of(epoch(update))
    assert found.line.startswith("batch 1: the loss matches; the update differs (the reference: -lr x gradient")
    assert found.line.endswith(f": {said}") and found.cause is None


def test_wrong_targets_leave_before_the_update_and_say_so():
    found = departure_of(epoch(sgd, targets=lambda y: 1 - y))
    assert found.line.startswith("batch 1: the predictions match; the loss differs (yours ")
    assert found.before_update and found.cause is None


def test_a_loop_that_stops_early_is_said():
    def one_batch(model, dl, lr, params, loss_func):
        xb, yb = dl[0]
        loss_func(model(xb), yb).backward()
        for p in params:
            sgd(p, lr)
            p.grad.zero_()

    found = departure_of(SimpleNamespace(train_epoch=one_batch))
    assert found.line == "batch 2: the loss function was not called again after batch 1: the loop stopped early"


def test_through_the_grader_the_uphill_look_alike_is_no_longer_named(warm_service, tmp_path):
    """Flipped targets and an uphill step end with the same weights; the trace tells them apart."""
    folder = plant(tmp_path, "train_epoch", "loss = loss_func(model(xb), yb)", "loss = loss_func(model(xb), 1 - yb)")
    _, tests = grade_step(folder, "train_epoch", quick=True, service=warm_service)
    assert "where it left the reference's run: batch 1: the predictions match; the loss differs" in tests[0].output
    assert "Likely mistake" not in tests[0].output
    zeroed = plant(tmp_path / "zeroed", "train_epoch", "p.grad.zero_()", "p.data.zero_()")
    _, tests = grade_step(zeroed, "train_epoch", quick=True, service=warm_service)
    assert f"Likely mistake: {ZEROED_PARAMS}" in tests[0].output


def test_a_trace_that_is_not_data_is_said_plainly():
    _, _, batches = start(0)
    found = first_departure({"calls": [{"preds": "x"}]}, batches, LR, None, None)
    assert found.line == "batch 1: the recorded values are not tensors"
    assert first_departure(None, batches, LR, None, None).line.startswith("the loss function was never called")


@pytest.mark.parametrize(("new", "said", "cause"), [
    # its gradients are all positive: a step by their sign is a constant step, so no cause is named
    ("p.data -= p.grad.data.sign() * self.lr", "every parameter moved by exactly -0.1", None),
    ("p.data -= self.lr", "every parameter moved by exactly -0.1 (the reference: -lr x gradient, from -0.3 to -0.07855)"
     "; it fits 2 mistakes, so none is named", None),
    ("p.data -= p.grad.data * self.lr * 0.5", "the update differs (the reference: -lr x gradient, from ", None),
])
def test_basic_optims_step_says_what_its_update_was(warm_service, tmp_path, new, said, cause):
    folder = plant(tmp_path, "basic_optim", "p.data -= p.grad.data * self.lr", new)
    _, tests = grade_step(folder, "basic_optim", quick=True, service=warm_service)
    step = next(t for t in tests if "step() moves" in t.name)
    assert f"  the update: {said}" in step.output
    assert (f"Likely mistake: {cause}" in step.output) if cause else ("Likely mistake" not in step.output)


def loop(batch):
    """A train_model whose every batch is `batch(model, xb, yb, opt, loss_func)`."""

    def train_model(model, dl, valid_dl, opt, epochs, loss_func, metric):
        for _ in range(epochs):
            for xb, yb in dl:
                batch(model, xb, yb, opt, loss_func)
        return [0.5] * epochs

    return SimpleNamespace(train_model=train_model)


def loop_departure(module):
    """train_model's departure on 78 digits of the embedded set, as its check finds it."""
    from grader.engine.checks.train_model import loop_data, where_it_left
    from grader.engine.data import embedded_path

    ctx = SimpleNamespace(seed=0, view=SimpleNamespace(source=embedded_path()), learner=SimpleNamespace(
        observe=lambda probe, *args: probe(module, *args)))
    return where_it_left(ctx, loop_data(ctx))


def chapter_batch(model, xb, yb, opt, loss_func):
    loss_func(model(xb), yb).backward()
    opt.step()
    opt.zero_grad()


def test_train_models_loop_the_chapters_way_retraces():
    assert loop_departure(loop(chapter_batch)) is None


def test_train_models_loop_without_zero_grad():
    found = loop_departure(loop(lambda m, xb, yb, opt, lf: (lf(m(xb), yb).backward(), opt.step())))
    assert found.line.startswith("batch 1: the update matches; the gradients left for the next batch are not zero")
    assert found.cause == NOT_ZEROED


def test_train_models_loop_that_zeroes_the_weights():
    def zeroed(model, xb, yb, opt, loss_func):
        loss_func(model(xb), yb).backward()
        opt.step()
        for p in model.parameters():
            p.data.zero_()

    found = loop_departure(loop(zeroed))
    assert found.line.startswith("batch 1: the loss matches; after the step every parameter is exactly 0")
    assert found.cause == ZEROED_PARAMS


def test_a_step_before_backward_moves_nothing_and_names_no_cause():
    """Several mistakes leave the parameters where they were: the observation, no cause."""
    found = loop_departure(loop(lambda m, xb, yb, opt, lf: (opt.zero_grad(), opt.step(), lf(m(xb), yb).backward())))
    assert found.line.startswith("batch 1: the loss matches; the parameters did not move (the reference: -lr x "
                                 "gradient, from ")
    assert found.cause is None


def test_through_the_grader_train_models_loop_says_where_it_left(warm_service, tmp_path):
    folder = plant(tmp_path, "train_model", "loss.backward()\nopt.step()\nopt.zero_grad()",
                   "loss.backward()\nopt.step()\nfor p in model.parameters():\n    p.data.zero_()")
    _, tests = grade_step(folder, "train_model", quick=True, service=warm_service)
    out = next(t for t in tests if "trains like the reference" in t.name).output
    assert "where it left the reference's run: batch 1: the loss matches; after the step every parameter is " \
           "exactly 0" in out
    assert f"Likely mistake: {ZEROED_PARAMS}" in out


def my_learner_departure(module):
    from grader.engine.checks.my_learner import where_it_left
    from grader.engine.data import embedded_path

    return where_it_left(SimpleNamespace(seed=0, data_path=embedded_path(), learner=SimpleNamespace(
        observe=lambda probe, *args: probe(module, *args))))


def test_my_learners_training_phase_the_chapters_way_retraces():
    reference = runpy.run_path(str(SOLUTIONS / "my_learner.py"))
    assert my_learner_departure(SimpleNamespace(**reference)) is None


def test_my_learners_training_phase_that_zeroes_the_weights():
    reference = runpy.run_path(str(SOLUTIONS / "my_learner.py"))

    class Zeroing(reference["MyLearner"]):
        def train_phase(self):
            self.opt.zero_grad = lambda: [p.data.zero_() for p in self.model.parameters()]
            return super().train_phase()

    found = my_learner_departure(SimpleNamespace(MyLearner=Zeroing))
    assert found.line.startswith("batch 1: the loss matches; after the step every parameter is exactly 0")
    assert found.cause == ZEROED_PARAMS
