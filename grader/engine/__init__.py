"""The grading engine's face: the names front ends may use, listed in `__all__`. Everything else
(the checks, the judges, the data, the cache keys) is the engine's own, and import-linter's
"protected" contract holds every front end to this list.

Builds on grader.core only (docs/architecture.md). A name is imported on first use, so that
loading one engine module (the sandboxed observer loads only its own) does not load them all."""

from importlib import import_module

# name -> (module inside the engine, its name there)
_FACE = {
    # grading: one service every front end adapts (service.py)
    "Service": ("service", "Service"),
    "Request": ("service", "Request"),
    "Marksheet": ("service", "Marksheet"),  # one request's checks: planned (Service.plan), scored, results
    "ResultStream": ("service", "ResultStream"),  # a plan's results as each check ends (Service.stream)
    "ScoredCheck": ("service", "ScoredCheck"),  # one check's result with the points it earned
    "Graded": ("service", "Graded"),  # ScoredCheck's earlier name
    "SKIPPED": ("service", "SKIPPED"),
    "resolve_source": ("service", "resolve_source"),
    "sandbox_first": ("service", "sandbox_first"),
    "judges_needed": ("service", "judges_needed"),
    "failure_text": ("service", "failure_text"),
    "grade_in_kernel": ("service", "grade_in_kernel"),
    "stop_judges": ("judges.warm", "stop_all"),
    "ALL_OF_FASTAI": ("sources.light", "FULL"),
    # what a grade runs on (settings.py)
    "Settings": ("settings", "Settings"),
    "make_settings": ("settings", "settings"),
    "DEFAULT_SEED": ("settings", "DEFAULT_SEED"),
    "DEFAULT_DATA": ("settings", "DEFAULT_DATA"),
    "DEFAULT_DEVICE": ("settings", "DEFAULT_DEVICE"),
    # what a grade says
    "CheckInfo": ("protocol", "CheckInfo"),
    "Verdict": ("protocol", "Verdict"),  # a check's outcome: passed, failed, not started, not graded, skipped
    "NOT_STARTED_YET": ("protocol", "NOT_STARTED_YET"),
    "totals": ("scoring", "totals"),
    "REGISTRY": ("checks", "REGISTRY"),
    "CORE_POINTS": ("checks", "CORE_POINTS"),
    "BONUS_POINTS": ("checks", "BONUS_POINTS"),
    "step_points": ("checks", "step_points"),
    # the learner's code, read (never run) on the host
    "extract": ("sources.extract", "extract"),
    "Extracted": ("sources.extract", "Extracted"),
    "read_cells": ("sources.cells", "read_cells"),
    "Cell": ("sources.cells", "Cell"),
    "script_cells": ("sources.cells", "script_cells"),
    "without_magics": ("sources.cells", "without_magics"),
    "load_reference": ("loading", "load_reference"),
    "shipped_files": ("catalogue", "shipped_files"),
    # the digits, for the kit's own notebook
    "load_stacks": ("data", "load_stacks"),
    "resolve_data": ("data", "resolve"),
}

__all__ = sorted(_FACE)


def __getattr__(name: str):
    try:
        module, attribute = _FACE[name]
    except KeyError:
        raise AttributeError(f"grader.engine has no public name {name!r} (its face is __all__)") from None
    return getattr(import_module(f"grader.engine.{module}"), attribute)


def __dir__() -> list[str]:
    return __all__
