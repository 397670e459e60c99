"""Reads of triage: a run's notes, the bug references carried over to it, and search."""

from __future__ import annotations

import re

from django.db.models import Q

from atp_core.status import BAD_STATUSES
from runs.models import Run, StepResult

from .models import Note

SEARCH_LIMIT = 50
CARRY_CANDIDATES = 20


def error_kind(status: str, error: str) -> str:
    """The kind of a step's error: its status and its text with numbers and quoted values
    blanked, so "score 0.412 < 0.96" and "score 0.388 < 0.96" are the same kind."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", error or "")
    text = re.sub(r"\d+(\.\d+)?", "#", text)
    return f"{status}:{text.strip()[:120]}"


def failed_steps(run: Run) -> list[StepResult]:
    return list(
        StepResult.objects.filter(run=run, status__in=list(BAD_STATUSES))
        .select_related("target")
        .order_by("target__ordinal", "ordinal", "iteration")
    )


def run_notes(run: Run) -> list[Note]:
    return list(Note.objects.filter(run=run).select_related("author"))


def carried_over(run: Run) -> list[dict]:
    """Bug references of earlier runs of the scenario on a step that failed the same way.

    For each failed step of ``run`` without a bug reference of its own: the newest note with a
    bug reference on the same step (plan id) of an earlier run of the same scenario whose
    step failed with the same kind of error (``error_kind``).
    """
    own = {(n.target, n.step_id) for n in Note.objects.filter(run=run).exclude(bug_ref="")}
    carried = []
    for step in failed_steps(run):
        if (step.target.name, step.step_id) in own:
            continue
        kind = error_kind(step.status, step.error)
        notes = (
            Note.objects.filter(
                run__scenario_id=run.scenario_id, run__created__lt=run.created, step_id=step.step_id
            )
            .exclude(bug_ref="")
            .exclude(run=run)
            .select_related("run")
            .order_by("-run__created", "-id")[:CARRY_CANDIDATES]
        )
        for note in notes:
            earlier = StepResult.objects.filter(
                run_id=note.run_id, step_id=step.step_id, status__in=list(BAD_STATUSES)
            ).first()
            if earlier is not None and error_kind(earlier.status, earlier.error) == kind:
                carried.append(
                    {
                        "step": step,
                        "bug_ref": note.bug_ref,
                        "label": note.label,
                        "from_run": note.run,
                    }
                )
                break
    return carried


def search(query: str) -> dict:
    """Runs (name, reason), failed steps (error) and notes (comment, bug reference) holding
    ``query``; at most SEARCH_LIMIT of each, newest first."""
    query = (query or "").strip()[:200]
    if not query:
        return {"query": "", "runs": [], "steps": [], "notes": []}
    runs = Run.objects.filter(Q(name__icontains=query) | Q(reason__icontains=query)).order_by(
        "-created"
    )[:SEARCH_LIMIT]
    steps = (
        StepResult.objects.filter(error__icontains=query)
        .select_related("run", "target")
        .order_by("-run__created", "ordinal")[:SEARCH_LIMIT]
    )
    notes = (
        Note.objects.filter(Q(comment__icontains=query) | Q(bug_ref__icontains=query))
        .select_related("run", "author")
        .order_by("-created")[:SEARCH_LIMIT]
    )
    return {"query": query, "runs": list(runs), "steps": list(steps), "notes": list(notes)}


UNLABELLED = ""


def failures_by_label(days: int = 30, *, now=None) -> dict:
    """The window's finished runs that did not pass (failed, error, timed out; cancelled ones
    are left out), per scenario split by failure label: each run counts once, under the label
    of its newest labelled note (on the run or one of its steps), else as not labelled.

    ``{"columns": [(key, label)...], "rows": [{name, total, counts: {key: n}, parts}],
    "totals": {...}}``; one query, whatever the number of runs."""
    import datetime as dt

    from django.db.models import Count, OuterRef, Subquery
    from django.utils import timezone

    from atp_core.status import Result, RunState

    from .models import LABELS

    now = now or timezone.now()
    first = timezone.localdate(now) - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    newest_label = (
        Note.objects.filter(run_id=OuterRef("pk"))
        .exclude(label="")
        .order_by("-created", "-id")
        .values("label")[:1]
    )
    grouped = (
        Run.objects.filter(
            state=RunState.FINISHED,
            finished__gte=start,
            result__in=[Result.FAILED, Result.ERROR, Result.TIMED_OUT],
        )
        .annotate(label=Subquery(newest_label))
        .values("name", "label")
        .annotate(runs=Count("id"))
        .order_by()
    )
    columns = [*LABELS, (UNLABELLED, "not labelled")]
    keys = [k for k, _ in columns]
    rows: dict[str, dict] = {}
    totals = {"name": "all scenarios", "total": 0, "counts": dict.fromkeys(keys, 0)}
    for g in grouped:
        row = rows.setdefault(
            g["name"], {"name": g["name"], "total": 0, "counts": dict.fromkeys(keys, 0)}
        )
        key = g["label"] or UNLABELLED
        row["counts"][key] += g["runs"]
        row["total"] += g["runs"]
        totals["counts"][key] += g["runs"]
        totals["total"] += g["runs"]
    out = sorted(rows.values(), key=lambda r: r["name"].lower())
    for row in [*out, totals]:
        row["cells"] = [{"key": k, "count": row["counts"][k]} for k in keys]
        row["parts"] = [
            {"key": k or "none", "share": round(100 * row["counts"][k] / row["total"], 1)}
            for k in keys
            if row["counts"][k]
        ]
    return {"columns": columns, "rows": out, "totals": totals, "window_days": days}
