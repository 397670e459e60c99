"""Developer mode: pause a target where a step fails, a screen check does not match, or at a step.

``pause_on`` (the scenario's top level, or given at launch) is one of ``failure`` (any step that
ends failed or error), ``mismatch`` (a screen check that did not match: ``verify_screen``,
``click_image``) or ``step:<id>`` (before the step with that plan id, e.g. ``step:3`` or
``step:2.1``). A paused target emits ``target_paused`` and waits, still inside its run (its
worker keeps the heartbeat), for a decision from a ``Pauser`` (the caller: the web's resume
buttons), for the run to be cancelled, or for the pause budget (``pause_max`` seconds in all,
per target) to run out, after which it goes on as if no one had answered (``continue``). The
time spent paused is added to the deadlines the pause interrupted (the run's and the step's
timeouts), so a pause never makes a target time out.

Decisions: ``retry`` (the step again; the references are read again, so a fixed reference is
used), ``skip`` (the step is marked skipped and the target goes on), ``continue`` (the failure
stands; the target stops as it would have, teardown runs).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from atp_core.errors import InvalidInput
from atp_core.status import BAD_STATUSES

DECISIONS = ("retry", "skip", "continue")
PAUSE_ON_PATTERN = r"^(failure|mismatch|step:[A-Za-z0-9.]+)$"
SCREEN_CHECK_KINDS = ("verify_screen", "click_image")
POLL_INTERVAL = 0.5


@dataclass(frozen=True)
class PauseRule:
    kind: str  # failure | mismatch | step
    step: str = ""

    @classmethod
    def parse(cls, text: str | None) -> PauseRule | None:
        if not text:
            return None
        value = str(text).strip()
        if not re.match(PAUSE_ON_PATTERN, value):
            raise InvalidInput(
                f"pause_on: {value!r} is not allowed; use failure, mismatch or step:<id> "
                "(a step's id in the plan, e.g. step:3 or step:2.1)"
            )
        if value.startswith("step:"):
            return cls("step", value.split(":", 1)[1])
        return cls(value)

    def __str__(self) -> str:
        return f"step:{self.step}" if self.kind == "step" else self.kind

    def after(self, kind: str, status: str, mismatch: bool) -> str | None:
        """Why a step that ended ``status`` pauses the target (None: it does not)."""
        if status not in BAD_STATUSES:
            return None
        if self.kind == "failure":
            return "mismatch" if mismatch else "failure"
        if self.kind == "mismatch" and mismatch and kind in SCREEN_CHECK_KINDS:
            return "mismatch"
        return None

    def before(self, step_id: str) -> bool:
        return self.kind == "step" and self.step == step_id


@dataclass(frozen=True)
class Decision:
    action: str  # retry | skip | continue
    by: str = ""


class Pauser(Protocol):
    """The caller's side of a pause: who answers, and fresh references for a retry."""

    def decision(self, target: str, pause_id: str) -> Decision | None: ...

    def references(self) -> dict[str, Any] | None: ...


@dataclass
class PauseBudget:
    """The pause time a target has left (``pause_max`` seconds in all)."""

    left: float
    used: float = 0.0
    count: int = 0
    ids: list[str] = field(default_factory=list)

    def next_id(self, target: str) -> str:
        self.count += 1
        pause_id = f"{target}#{self.count}"
        self.ids.append(pause_id)
        return pause_id


def check_step_exists(rule: PauseRule | None, step_ids: list[str]) -> None:
    """``step:<id>`` names a step of the plan; raises InvalidInput naming the ids there are."""
    if rule is None or rule.kind != "step" or rule.step in step_ids:
        return
    shown = ", ".join(step_ids[:30]) + (" …" if len(step_ids) > 30 else "")
    raise InvalidInput(f"pause_on: there is no step {rule.step!r} (the steps' ids: {shown})")


def wait_for_decision(
    pauser: Pauser, target: str, pause_id: str, token: Any, budget: PauseBudget
) -> tuple[Decision | None, float]:
    """Poll ``pauser`` until it decides, ``token`` fires (Cancelled) or the budget is spent.
    Returns (decision or None when the budget ran out, seconds waited)."""
    started = time.monotonic()
    deadline = started + max(0.0, budget.left)
    try:
        while True:
            decision = pauser.decision(target, pause_id)
            if decision is not None and decision.action in DECISIONS:
                return decision, time.monotonic() - started
            now = time.monotonic()
            if now >= deadline:
                return None, now - started
            token.wait(min(POLL_INTERVAL, deadline - now))
    finally:
        waited = time.monotonic() - started
        budget.used += waited
        budget.left = max(0.0, budget.left - waited)
