"""Reads of runs: the filtered list, one run with its targets and steps, events after a seq.

Every function issues a fixed number of queries whatever the number of runs, targets, steps.
"""

from __future__ import annotations

from django.db.models import Max, Prefetch, Q, QuerySet

from atp_core.errors import InvalidInput
from atp_core.status import Result

from .filters import RunFilter
from .models import (
    Artifact,
    Run,
    RunEvent,
    RunTarget,
    StepResult,
)

EVENTS_MAX = 500


def runs() -> QuerySet[Run]:
    """Every run, newest first, with ``scenario``, ``launched_by`` (one join) and its targets
    (one prefetch query per page): the rows the runs list filters."""
    return (
        Run.objects.select_related("scenario", "launched_by")
        .prefetch_related(
            Prefetch(
                "run_targets",
                queryset=RunTarget.objects.select_related("host").order_by("ordinal"),
            )
        )
        .order_by("-created", "-id")
    )


def run_list(filters=None) -> QuerySet[Run]:
    """Runs, newest first, filtered by ``runs.filters.RunFilter`` (scenario, state, result,
    host, user, build, date, date_from/date_to, q); ``filters`` is a dict or a QueryDict;
    empty values are ignored; a bad value raises ``InvalidInput``."""
    return RunFilter(filters or {}, queryset=runs()).checked_qs()


def run_detail(run_id: int) -> Run:
    """One run with its targets (each with ``steps`` in plan order and ``artifacts``) and
    its run-level artifacts; raises ``Run.DoesNotExist``. Five queries."""
    steps = StepResult.objects.order_by("ordinal", "iteration", "id")
    artifacts = Artifact.objects.order_by("created", "id")
    return (
        Run.objects.select_related("scenario", "revision", "launched_by", "rerun_of")
        .prefetch_related(
            Prefetch(
                "run_targets",
                queryset=RunTarget.objects.select_related("host", "vm")
                .order_by("ordinal")
                .prefetch_related(
                    Prefetch("steps", queryset=steps),
                    Prefetch("artifacts", queryset=artifacts),
                ),
            ),
            Prefetch("artifacts", queryset=artifacts, to_attr="all_artifacts"),
        )
        .get(pk=run_id)
    )


def events_since(run: Run | int, after: int = 0, limit: int = EVENTS_MAX) -> list[dict]:
    """Events of ``run`` with ``seq > after`` in order, at most ``limit`` (capped at 500),
    as client dicts ``{seq, type, ts, target, step_id, data}``."""
    run_id = run if isinstance(run, int) else run.pk
    try:
        after = max(0, int(after or 0))
    except (TypeError, ValueError):
        raise InvalidInput(f"after: {after!r} is not a sequence number") from None
    limit = max(1, min(int(limit or EVENTS_MAX), EVENTS_MAX))
    rows = RunEvent.objects.filter(run_id=run_id, seq__gt=after).order_by("seq")[:limit]
    return [ev.to_client() for ev in rows]


def events_between(run_id: int, after: int, upto: int) -> list[dict]:
    """Events with ``after < seq < upto`` (a gap a live client has to fill)."""
    rows = RunEvent.objects.filter(run_id=run_id, seq__gt=after, seq__lt=upto).order_by("seq")
    return [ev.to_client() for ev in rows]


def events_page(run: Run, after: int = 0, limit: int = EVENTS_MAX) -> dict:
    """What the polling endpoints answer: ``{events, state, result, last_seq, more}``."""
    events = events_since(run, after, limit)
    run.refresh_from_db(fields=["state", "result", "last_seq", "reason"])
    last = events[-1]["seq"] if events else max(0, int(after or 0))
    return {
        "events": events,
        "state": run.state,
        "result": run.result,
        "reason": run.reason,
        "last_seq": run.last_seq,
        "next_after": last,
        "more": last < run.last_seq,
    }


def previous_next(run: Run) -> tuple[Run | None, Run | None]:
    """The run of the same scenario just before and just after ``run``."""
    same = Run.objects.filter(scenario_id=run.scenario_id).only("id", "created", "result")
    before = same.filter(
        Q(created__lt=run.created) | Q(created=run.created, id__lt=run.pk)
    ).order_by("-created", "-id")
    after = same.filter(Q(created__gt=run.created) | Q(created=run.created, id__gt=run.pk))
    return before.first(), after.order_by("created", "id").first()


MATRIX_BUILDS = 12


def recent_builds(limit: int = MATRIX_BUILDS) -> list[str]:
    """The build labels of the newest runs, newest first (one query over run_build_scenario)."""
    rows = (
        Run.objects.exclude(build="")
        .values("build")
        .annotate(newest=Max("id"))
        .order_by("-newest")[: max(1, limit)]
    )
    return [r["build"] for r in rows]


def last_passed_before(run: Run) -> Run | None:
    """The newest run of ``run``'s scenario that passed and was launched before it."""
    return (
        Run.objects.filter(scenario_id=run.scenario_id, result=Result.PASSED)
        .filter(Q(created__lt=run.created) | Q(created=run.created, id__lt=run.pk))
        .select_related("revision", "worker_env")
        .order_by("-created", "-id")
        .first()
    )
