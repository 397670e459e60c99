"""The status vocabulary of runs, targets and steps: one place, used by the engine and the web.

A run (and each of its targets) has a *state*, where it is in its life, apart from its
*result*, how it ended. Infrastructure trouble ends as ``error``, never as ``failed``.

The members are ``str`` enums, so they compare equal to, and serialise as, the plain strings
stored in the database and sent in events:

>>> RunState.FINISHED == "finished"
True
>>> Result("timed_out").label
'timed out'
>>> combine_results([Result.FAILED, Result.ERROR])
<Result.ERROR: 'error'>
>>> worst_status(["passed", "skipped", "failed"])
<StepStatus.FAILED: 'failed'>
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class _Vocabulary(StrEnum):
    @property
    def label(self) -> str:
        """The word shown to people (``timed_out`` reads ``timed out``)."""
        return self.value.replace("_", " ")

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)


class RunState(_Vocabulary):
    """Where a run (or one of its targets) is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"


class Result(_Vocabulary):
    """How a finished run (or target) ended."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class StepStatus(_Vocabulary):
    """A step's status: ``pending``/``running`` while the run goes, then how it ended."""

    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


ACTIVE_STATES = frozenset({RunState.QUEUED, RunState.RUNNING})
"""States of a run that has not finished."""

BAD_STATUSES = frozenset({StepStatus.FAILED, StepStatus.ERROR})
"""Step statuses that stop a target (unless ``continue_on_error``) and count as a failure."""

OPEN_STATUSES = frozenset({StepStatus.PENDING, StepStatus.RUNNING})
"""Step statuses of a step that has not ended."""

FINAL_STATUSES = (
    StepStatus.PASSED,
    StepStatus.FAILED,
    StepStatus.ERROR,
    StepStatus.SKIPPED,
    StepStatus.CANCELLED,
)
"""The statuses a step can end with, in the order reports count them."""

# how bad a step status is, for the status of a container from its children's
_SEVERITY = {
    StepStatus.PASSED: 0,
    StepStatus.SKIPPED: 0,
    StepStatus.FAILED: 2,
    StepStatus.ERROR: 3,
    StepStatus.CANCELLED: 4,
}

# a run's result from its targets': the first of these present wins, else passed
_RESULT_PRECEDENCE = (Result.CANCELLED, Result.TIMED_OUT, Result.ERROR, Result.FAILED)


def worst_status(statuses: Iterable[str]) -> StepStatus:
    """The worst of step ``statuses``: cancelled > error > failed > passed/skipped."""
    worst = StepStatus.PASSED
    for status in statuses:
        if _SEVERITY.get(status, 0) > _SEVERITY[worst]:
            worst = StepStatus(status)
    return worst


def combine_results(results: Iterable[str]) -> Result:
    """The run's result from its targets': cancelled > timed_out > error > failed > passed."""
    present = set(results)
    for result in _RESULT_PRECEDENCE:
        if result in present:
            return result
    return Result.PASSED


def vocabulary() -> dict[str, dict[str, str] | list[str]]:
    """The vocabulary for pages and their scripts (``json_script``): ``{"run_state": {"QUEUED":
    "queued", ...}, "result": {...}, "step_status": {...}, "bad_statuses": [...]}``."""
    return {
        "run_state": {m.name: m.value for m in RunState},
        "result": {m.name: m.value for m in Result},
        "step_status": {m.name: m.value for m in StepStatus},
        "bad_statuses": sorted(BAD_STATUSES),
        "open_statuses": sorted(OPEN_STATUSES),
    }
