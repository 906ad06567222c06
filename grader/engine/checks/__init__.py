"""Every step's checks: one module per step id of the manifest, imported here in chapter order.

Importing a module registers its checks (grader.engine.checks.base.check), so a new step's
module is found by its id alone.
"""

from importlib import import_module

from grader.core.steps import ALL_IDS
from grader.engine.checks.base import REGISTRY
from grader.engine.probes import PROBES

for _step in ALL_IDS:
    import_module(f"grader.engine.checks.{_step}")

import_module("grader.engine.recipes.ten_digits")  # the bonus recipes' probes

__all__ = ["PROBES", "REGISTRY"]
