"""Developer mode on the site: pauses of a run's targets and the decisions that end them.

The engine pauses a target (``atp_core.orchestrator.pause``) and emits ``target_paused`` with a
``pause_id``; the worker's ``EventPauser`` then polls the database for a ``resume_requested``
event of that pause, which ``request_resume`` (the live view's buttons, the API) stores. The
engine's ``target_resumed`` ends the pause. Everything is an event of the run: the live view,
a reload and the report all read the same rows, and nothing but the events holds pause state.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from atp_core.errors import InvalidInput
from atp_core.orchestrator.pause import DECISIONS, Decision, PauseRule
from atp_core.status import RunState

from .event_store import record_event
from .models import Run, RunEvent, RunTarget

PAUSE_EVENTS = ("target_paused", "target_resumed", "resume_requested")


def clean_pause_on(value: str | None) -> str:
    """The launch's ``pause_on`` ('' = the scenario's own); raises InvalidInput."""
    try:
        rule = PauseRule.parse((value or "").strip() or None)
    except InvalidInput:
        raise
    return str(rule) if rule else ""


def pause_max() -> float:
    return float(getattr(settings, "ATP_PAUSE_MAX", 1800))


def current_pause(run_id: int, target: str) -> dict | None:
    """The open pause of ``target`` (its ``target_paused`` event as a client sees it, plus
    ``requested``: a decision already asked for), or None."""
    rows = list(
        RunEvent.objects.filter(run_id=run_id, target=target, type__in=PAUSE_EVENTS).order_by(
            "-seq"
        )[:20]
    )
    closed: set[str] = set()
    requested: dict[str, str] = {}
    for ev in rows:
        pause_id = str((ev.payload or {}).get("pause_id", ""))
        if ev.type == "target_resumed":
            closed.add(pause_id)
        elif ev.type == "resume_requested":
            requested.setdefault(pause_id, str(ev.payload.get("decision", "")))
        elif ev.type == "target_paused" and pause_id not in closed:
            return {**ev.to_client(), "requested": requested.get(pause_id, "")}
    return None


def request_resume(run: Run, target: RunTarget, decision: str, user) -> RunEvent:
    """Ask the worker to end ``target``'s pause with ``decision`` (retry, skip, continue)."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision: {decision!r}; allowed: {', '.join(DECISIONS)}")
    who = getattr(user, "username", "") or "someone"
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.state != RunState.RUNNING:
            raise InvalidInput(f"run {run.pk} is {locked.result or locked.state}, not running")
        pause = current_pause(run.pk, target.name)
        if pause is None:
            raise InvalidInput(f"{target.name} is not paused")
        if pause["requested"]:
            raise InvalidInput(f"{target.name}: {pause['requested']} was already asked for")
        return record_event(
            locked,
            "resume_requested",
            {"pause_id": pause["data"].get("pause_id"), "decision": decision, "by": who},
            target=target.name,
            step_id=pause["step_id"],
        )


class EventPauser:
    """The worker's side: a target's decision is the ``resume_requested`` event of its pause.

    Called from the engine's target threads; each call uses (and closes) its own database
    connection so a long pause holds none open.
    """

    def __init__(self, run_id: int, references=None) -> None:
        self.run_id = run_id
        self._references = references  # () -> the reference store as the engine reads it

    def decision(self, target: str, pause_id: str) -> Decision | None:
        try:
            for payload in RunEvent.objects.filter(
                run_id=self.run_id, target=target, type="resume_requested"
            ).values_list("payload", flat=True):
                if str((payload or {}).get("pause_id")) == pause_id:
                    return Decision(str(payload.get("decision")), str(payload.get("by") or ""))
            return None
        finally:
            connection.close()

    def references(self):
        """The reference store as it is now (a reference fixed during the pause is used)."""
        if self._references is None:
            return None
        try:
            return self._references()
        finally:
            connection.close()
