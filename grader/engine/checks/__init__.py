"""Every step's checks: one module per step id of the manifest, imported here in chapter order.

Importing a module registers its checks (grader.engine.checks.base.check), so a new step's
module is found by its id alone. A step's points are declared there alone, check by check:
step_points() sums them, CORE_POINTS is the chapter's total (100).
"""

from importlib import import_module

from grader.core.steps import ALL_IDS, BONUS_IDS, STEP_IDS
from grader.engine.checks.base import REGISTRY
from grader.engine.probes import PROBES

for _step in ALL_IDS:
    import_module(f"grader.engine.checks.{_step}")



def step_points(step: str) -> float:
    """A step's points: the sum of its checks' points."""
    return float(sum(c.points for c in REGISTRY[step]))


CORE_POINTS: float = sum(step_points(s) for s in STEP_IDS)
BONUS_POINTS: float = sum(step_points(s) for s in BONUS_IDS)

__all__ = ["BONUS_POINTS", "CORE_POINTS", "PROBES", "REGISTRY", "step_points"]
