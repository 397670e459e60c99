"""Page presenters of runs: what each page shows (dashboard, live view/report, compare, trends,
matrix, metric trends, investigation), built from the reads of ``runs.selectors``.

Every function issues a fixed number of queries whatever the number of runs, steps or events.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.utils import timezone

from atp_core.errors import InvalidInput
from atp_core.status import ACTIVE_STATES, BAD_STATUSES, OPEN_STATUSES, Result, RunState, StepStatus

from .filters import start_of_day
from .models import (
    Artifact,
    Run,
    RunEvent,
    RunTarget,
    StepResult,
)
from .run_view import NOT_RUN_LOG_TYPES, STEP_EVENT_TYPES, StepsView
from .selectors import MATRIX_BUILDS, last_passed_before, recent_builds

# Pass rates count runs (and targets) that ended passed, failed, error or timed out; a
# cancelled one was stopped on purpose and says nothing about the product.
COUNTED_RUNS = Count("id", filter=~Q(result=Result.CANCELLED))


def page_filter_choices() -> dict:
    """Values offered by the runs list's filter drop-downs (four queries)."""
    from django.contrib.auth import get_user_model

    from hosts.models import Host
    from scenarios.models import Scenario

    from .models import Run

    return {
        "scenarios": list(Scenario.objects.order_by("name").values_list("name", flat=True)),
        "hosts": list(Host.objects.order_by("name").values_list("name", flat=True)),
        # EXISTS per user (an index probe each) rather than DISTINCT over every run
        "users": list(
            get_user_model()
            .objects.filter(Exists(Run.objects.filter(launched_by_id=OuterRef("pk"))))
            .order_by("username")
            .values_list("username", flat=True)
        ),
        "builds": recent_builds(),
    }


def page_pass_rate_by_day(days: int = 14, *, now=None) -> list[dict]:
    """Per day of the last ``days`` days (oldest first): finished runs, passed, rate (or None)."""
    import datetime as dt

    from django.db.models import Count, Q
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from .models import Run

    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    rows = (
        Run.objects.filter(state=RunState.FINISHED, finished__gte=start)
        .annotate(day=TruncDate("finished"))
        .values("day")
        .annotate(total=COUNTED_RUNS, passed=Count("id", filter=Q(result=Result.PASSED)))
        .order_by()
    )
    by_day = {r["day"]: r for r in rows}
    out = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        r = by_day.get(day)
        total = r["total"] if r else 0
        passed = r["passed"] if r else 0
        out.append(
            {
                "day": day,
                "total": total,
                "passed": passed,
                "rate": (passed / total) if total else None,
            }
        )
    return out


def page_dashboard(*, recent: int = 15, days: int = 14) -> dict:
    """Recent finished runs, runs queued or running now (with step progress), the pass-rate
    trend of the last ``days`` days, and the hosts with their health."""
    from django.db.models import Count, Q

    from hosts.models import Host

    from .models import Run, StepResult

    running = list(
        Run.objects.filter(state__in=tuple(ACTIVE_STATES))
        .select_related("launched_by")
        .defer("source", "variables", "targets")
        .order_by("-created")[:20]
    )
    # step progress of those runs only (one aggregate over their steps, not a join of all runs)
    progress = {
        row["run_id"]: row
        for row in StepResult.objects.filter(run_id__in=[r.pk for r in running])
        .values("run_id")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=~Q(status__in=tuple(OPEN_STATUSES))),
            failed=Count("id", filter=Q(status__in=tuple(BAD_STATUSES))),
        )
        .order_by()
    }
    for r in running:
        p = progress.get(r.pk, {})
        r.steps_total, r.steps_done, r.steps_failed = (
            p.get("total", 0),
            p.get("done", 0),
            p.get("failed", 0),
        )
    recent_runs = list(
        Run.objects.filter(state=RunState.FINISHED)
        .select_related("launched_by")
        .defer("source", "variables", "targets")
        .order_by("-created", "-id")[:recent]  # "created" is indexed; "finished" is not
    )
    trend = page_pass_rate_by_day(days)
    totals = {
        "runs": sum(d["total"] for d in trend),
        "passed": sum(d["passed"] for d in trend),
    }
    totals["rate"] = totals["passed"] / totals["runs"] if totals["runs"] else None
    return {
        "running": running,
        "recent": recent_runs,
        "trend": trend,
        "trend_totals": totals,
        "hosts": list(Host.objects.order_by("name")),
    }


def page_run(run_id: int) -> dict:
    """Everything the live view and the report render, as of one consistent moment.

    ``last_seq`` is read in the same transaction as the steps and events (repeatable read on
    PostgreSQL) so the page shows exactly the events up to ``last_seq`` and the browser
    resumes after it. Step logs, outputs and artifacts are attributed to the loop iteration
    that was running when they were emitted (``runs.run_view``, the reducer the live updates
    use too).
    """
    from django.db import connection, transaction
    from django.http import Http404

    from .models import Run, StepResult

    # Only the outermost transaction can choose its isolation level (inside another one, as in
    # tests or with ATOMIC_REQUESTS, the outer transaction's snapshot rules apply).
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        run = (
            Run.objects.select_related("scenario", "revision", "launched_by", "rerun_of")
            .filter(pk=run_id)
            .first()
        )
        if run is None:
            raise Http404(f"no run {run_id}")
        last_seq = run.last_seq
        targets = list(
            run.run_targets.select_related("host", "vm")
            .defer("domain_xml")
            .order_by("ordinal", "id")
        )
        steps = list(
            StepResult.objects.filter(run=run).order_by("target_id", "ordinal", "iteration")
        )
        events = list(
            RunEvent.objects.filter(run=run, seq__lte=last_seq, type__in=STEP_EVENT_TYPES)
            .order_by("seq")
            .only("seq", "type", "target", "step_id", "payload")
        )
        run_events = list(
            RunEvent.objects.filter(run=run, seq__lte=last_seq)
            .exclude(type__in=NOT_RUN_LOG_TYPES)
            .order_by("seq")
            .only("seq", "type", "payload", "created")
        )
        artifacts = list(Artifact.objects.filter(run=run).select_related("target"))

    from django.conf import settings

    view = StepsView(targets, steps, artifacts).fold(events)
    view.finish(int(settings.ATP_REPORT_STEP_LOG_LINES))
    steps = view.steps
    for t in targets:
        t.latency = latency_rows(t.step_rows)
        t.logons = [s for s in t.step_rows if (s.metrics or {}).get("logon.total") is not None]
        named = {a.name: a for a in artifacts if a.target_id == t.pk and not a.step_id}
        t.video = named.get("video.webm")
        t.video_markers = named.get("video-markers.json")
    logon_scale = max([s.metrics["logon.total"] for t in targets for s in t.logons] or [0.0])
    return {
        "run": run,
        "last_seq": last_seq,
        "targets": targets,
        "artifacts": artifacts,
        "run_events": run_events,
        "latency": latency_rows(steps),
        **_chart_steps(latency_step_rows(targets)),
        "logon": logon_rows(steps),
        "logon_scale": logon_scale,
    }


CHART_STEP_ROWS = 60  # rows of the report's per-step latency chart


def _chart_steps(rows: list[dict]) -> dict:
    """The per-step chart's rows: all of them, or the CHART_STEP_ROWS slowest (by p95) in plan
    order, with how many there were."""
    shown = rows
    if len(rows) > CHART_STEP_ROWS:
        slowest = sorted(range(len(rows)), key=lambda i: -rows[i]["p95"])[:CHART_STEP_ROWS]
        shown = [rows[i] for i in sorted(slowest)]
    return {"latency_steps": shown, "latency_steps_total": len(rows)}


def latency_step_rows(targets) -> list[dict]:
    """Per target and input step (all its loop iterations together), in plan order: the
    measured latencies (ms) with their p50, p95 and max, and the step's ``max_latency``."""
    from atp_core.orchestrator.latency import percentile

    rows: list[dict] = []
    for t in targets:
        by_step: dict[str, dict] = {}
        for s in t.step_rows:
            metrics = s.metrics or {}
            if metrics.get("latency") is None:
                continue
            row = by_step.get(s.step_id)
            if row is None:
                row = by_step[s.step_id] = {
                    "target": t.name,
                    "step": s.step_id,
                    "label": f"{s.step_id} {s.name}".strip(),
                    "kind": str(metrics.get("action") or s.type),
                    "samples": [],
                    "limit": None,
                }
                if len(targets) > 1:
                    row["label"] = f"{t.name.rsplit('/', 1)[-1]} · {row['label']}"
                rows.append(row)
            row["samples"].append(float(metrics["latency"]) * 1000)
            if metrics.get("max_latency") is not None:
                row["limit"] = float(metrics["max_latency"]) * 1000
    for row in rows:
        row["p50"] = percentile(row["samples"], 50)
        row["p95"] = percentile(row["samples"], 95)
        row["max"] = max(row["samples"])
    return rows


def logon_rows(steps) -> list[dict]:
    """Median and p95 seconds per logon phase over the run's logon steps, in phase order."""
    from atp_core.orchestrator.latency import summarize_logon

    return [
        {"phase": phase.replace("_", " "), "key": phase, **stats}
        for phase, stats in summarize_logon(steps).items()
    ]


def latency_rows(steps) -> list[dict]:
    """p50/p95/max input-to-display latency per action kind, in milliseconds, for a table."""
    from atp_core.orchestrator.latency import summarize

    return [
        {
            "action": kind,
            "count": stats["count"],
            "p50": stats["p50"] * 1000,
            "p95": stats["p95"] * 1000,
            "max": stats["max"] * 1000,
        }
        for kind, stats in summarize(steps).items()
    ]


def page_compare(run_a, run_b) -> list[dict]:
    """The steps of two runs aligned by (target position, step id, iteration), in plan order.

    Each row: ``target``, ``step_id``, ``iteration``, ``name``, ``a`` and ``b`` (StepResult or
    None), ``change``: ``same`` | ``changed`` | ``fixed`` (failed → passed) | ``broke``
    (passed → failed) | ``only_a`` | ``only_b``.
    """
    from .models import StepResult

    steps = list(
        StepResult.objects.filter(run__in=[run_a.pk, run_b.pk])
        .select_related("target")
        .order_by("target__ordinal", "ordinal", "iteration")
    )
    rows: dict[tuple, dict] = {}
    order: list[tuple] = []
    for s in steps:
        key = (s.target.ordinal, s.step_id, s.iteration)
        if key not in rows:
            rows[key] = {
                "target": s.target.name,
                "step_id": s.step_id,
                "iteration": s.iteration,
                "name": s.name,
                "depth": s.depth,
                "sort": (s.target.ordinal, s.ordinal, s.iteration),
                "a": None,
                "b": None,
            }
            order.append(key)
        side = "a" if s.run_id == run_a.pk else "b"
        rows[key][side] = s
        if side == "a":
            rows[key]["target"] = s.target.name
    out = sorted((rows[k] for k in order), key=lambda r: r["sort"])
    for r in out:
        a, b = r["a"], r["b"]
        if a is None:
            r["change"] = "only_b"
        elif b is None:
            r["change"] = "only_a"
        elif a.status == b.status:
            r["change"] = "same"
        elif a.status == StepStatus.PASSED and b.status in tuple(BAD_STATUSES):
            r["change"] = "broke"
        elif a.status in tuple(BAD_STATUSES) and b.status == StepStatus.PASSED:
            r["change"] = "fixed"
        else:
            r["change"] = "changed"
    return out


def page_trends(*, days: int = 30, last_runs: int = 10, now=None) -> dict:
    """Pass rate per scenario and per host by day over the last ``days`` days, and flaky steps:
    steps that both passed and failed within the last ``last_runs`` finished runs of their
    scenario (runs of the window only). Six queries, whatever the number of runs."""
    import datetime as dt

    from django.db.models import Count, OuterRef, Q, Subquery
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from scenarios.models import Scenario

    from .models import Run, RunTarget, StepResult

    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    day_list = [first + dt.timedelta(days=i) for i in range(days)]

    def series(rows, key):
        table: dict[str, dict] = {}
        for r in rows:
            entry = table.setdefault(
                r[key] or "—", {"name": r[key] or "—", "days": {}, "total": 0, "passed": 0}
            )
            entry["days"][r["day"]] = (r["passed"], r["total"])
            entry["total"] += r["total"]
            entry["passed"] += r["passed"]
        out = []
        for entry in sorted(table.values(), key=lambda e: e["name"]):
            entry["rate"] = entry["passed"] / entry["total"] if entry["total"] else None
            entry["cells"] = [
                {
                    "day": d,
                    "passed": entry["days"].get(d, (0, 0))[0],
                    "total": entry["days"].get(d, (0, 0))[1],
                    "rate": (entry["days"][d][0] / entry["days"][d][1])
                    if d in entry["days"] and entry["days"][d][1]
                    else None,
                }
                for d in day_list
            ]
            out.append(entry)
        return out

    # Every query below reads an index, not the run rows: the window's finished runs and
    # targets come from the covering partial indexes run_finished_trend / target_finished_trend
    # (runs/models.py), the last runs of each scenario from run_scenario_created.
    finished = Run.objects.filter(state=RunState.FINISHED, finished__gte=start)
    per_scenario = list(
        finished.annotate(day=TruncDate("finished"))
        .values("scenario_id", "name", "day")
        .annotate(total=COUNTED_RUNS, passed=Count("id", filter=Q(result=Result.PASSED)))
        .order_by()
    )
    # a host's pass rate counts its targets by the day each finished (a target's result is
    # final when it finishes, whatever the run's other targets still do)
    per_host = (
        RunTarget.objects.filter(state=RunState.FINISHED, finished__gte=start)
        .annotate(day=TruncDate("finished"))
        .values("host__name", "day")
        .annotate(total=COUNTED_RUNS, passed=Count("id", filter=Q(result=Result.PASSED)))
        .order_by()
    )
    # the last ``last_runs`` finished runs of each scenario: per scenario the created time of
    # its last_runs-th newest run (an index probe each), then the runs at or after it
    nth_newest = (
        finished.filter(scenario_id=OuterRef("pk"))
        .order_by("-created")
        .values("created")[last_runs - 1 : last_runs]
    )
    cutoffs = Scenario.objects.filter(pk__in={r["scenario_id"] for r in per_scenario}).annotate(
        cutoff=Subquery(nth_newest)
    )
    recent = Q()
    for pk, cutoff in cutoffs.values_list("pk", "cutoff"):
        recent |= Q(scenario_id=pk, created__gte=cutoff) if cutoff else Q(scenario_id=pk)
    recent_ids = list(finished.filter(recent).values_list("id", flat=True)) if recent else []
    # A step is flaky when it both passed and failed under the same variable values; one that
    # fails only with some values fails for a reason, and is not called flaky. So the counts
    # are grouped by the run's variables too, and merged per step here.
    merged: dict[tuple, dict] = {}
    for row in (
        StepResult.objects.filter(run_id__in=recent_ids)
        # the same runs again, said so that the join reads run_finished_trend, not every run
        .filter(run__state=RunState.FINISHED, run__finished__gte=start)
        .values("run__name", "run__variables", "step_id", "name")
        .annotate(
            passed=Count("id", filter=Q(status=StepStatus.PASSED)),
            failed=Count("id", filter=Q(status__in=tuple(BAD_STATUSES))),
            runs=Count("run_id", distinct=True),
        )
        .filter(passed__gt=0, failed__gt=0)
        .order_by("run__name", "step_id")
    ):
        key = (row["run__name"], row["step_id"], row["name"])
        entry = merged.setdefault(
            key,
            {
                "run__name": key[0],
                "step_id": key[1],
                "name": key[2],
                "passed": 0,
                "failed": 0,
                "runs": 0,
            },
        )
        for count in ("passed", "failed", "runs"):
            entry[count] += row[count]
    flaky = list(merged.values())
    last_failures = {}
    if flaky:
        keys = {(f["run__name"], f["step_id"]) for f in flaky}
        for s in (
            StepResult.objects.filter(
                run_id__in=recent_ids,
                status__in=tuple(BAD_STATUSES),
                step_id__in={f["step_id"] for f in flaky},
            )
            .select_related("run")
            .only("run__id", "run__name", "run__created", "step_id", "error")
            .order_by("-run__created")
        ):
            k = (s.run.name, s.step_id)
            if k in keys and k not in last_failures:
                last_failures[k] = s
    for f in flaky:
        f["rate"] = f["passed"] / (f["passed"] + f["failed"])
        f["last_failure"] = last_failures.get((f["run__name"], f["step_id"]))
    return {
        "days": day_list,
        "per_scenario": series(per_scenario, "name"),
        "per_host": series(per_host, "host__name"),
        "flaky": flaky,
        "window_days": days,
        "last_runs": last_runs,
    }


# --- builds: the matrix of scenarios × builds (or × hosts) -------------------------------------

MATRIX_HOST_DAYS = 30


def _matrix_cells(groups: list[dict], lasts: dict[int, object], column_key: str) -> list[dict]:
    """Rows (one per scenario, by name) of cells keyed by column, from grouped counts."""
    rows: dict[int, dict] = {}
    for g in groups:
        row = rows.setdefault(
            g["scenario_id"], {"scenario": g["scenario_name"], "cells": {}, "total": 0}
        )
        row["cells"][g[column_key]] = {
            "last": lasts.get(g["last"]),
            "total": g["total"],
            "passed": g["passed"],
            "failed": g["failed"],
        }
        row["total"] += g["total"]
    return sorted(rows.values(), key=lambda r: r["scenario"].lower())


def page_matrix(*, by: str = "build", build: str = "", builds: int = MATRIX_BUILDS) -> dict:
    """Scenarios × builds (``by="build"``: the ``builds`` newest build labels, newest first) or
    scenarios × hosts (``by="host"``: the runs of ``build``, or of the last MATRIX_HOST_DAYS
    days without one). Each cell: the newest run (or target, by host) of that pair, how many
    there were, how many passed and failed. Three queries, whatever the number of runs."""
    if by not in ("build", "host"):
        raise InvalidInput(f"by: {by!r} is not one of build, host")
    counts = {
        "total": Count("id"),
        "passed": Count("id", filter=Q(result=Result.PASSED)),
        "failed": Count("id", filter=Q(result__in=[Result.FAILED, Result.ERROR, Result.TIMED_OUT])),
        "last": Max("id"),
    }
    known = recent_builds(builds)
    if by == "build":
        groups = list(
            Run.objects.filter(build__in=known)
            .values("scenario_id", "build", scenario_name=F("scenario__name"))
            .annotate(**counts)
            .order_by()
        )
        lasts = Run.objects.filter(pk__in=[g["last"] for g in groups]).only(
            "id", "state", "result", "created", "build"
        )
        return {
            "by": by,
            "build": "",
            "columns": known,
            "builds": known,
            "rows": _matrix_cells(groups, {r.pk: r for r in lasts}, "build"),
            "window_days": None,
        }
    targets = RunTarget.objects.filter(host__isnull=False)
    if build:
        targets = targets.filter(run__build=build)
    else:
        since = timezone.now() - timedelta(days=MATRIX_HOST_DAYS)
        targets = targets.filter(run__created__gte=since)
    groups = list(
        targets.values(
            scenario_id=F("run__scenario_id"),
            scenario_name=F("run__scenario__name"),
            host_name=F("host__name"),
        )
        .annotate(**counts)
        .order_by()
    )
    lasts = (
        RunTarget.objects.filter(pk__in=[g["last"] for g in groups])
        .select_related("run")
        .only("id", "state", "result", "run__id", "run__created", "run__build", "run__state")
    )
    return {
        "by": by,
        "build": build,
        "columns": sorted({g["host_name"] for g in groups}),
        "builds": known,
        "rows": _matrix_cells(groups, {t.pk: t for t in lasts}, "host_name"),
        "window_days": None if build else MATRIX_HOST_DAYS,
    }


METRIC_TREND_FILTERS = ("scenario", "host", "pool")
METRIC_TREND_ROWS_MAX = 20_000  # measured step rows read per page (newest first)
METRIC_TREND_POINTS = 100  # runs drawn per group (the newest); the tables count them all


def metric_trends(filters=None, *, days: int = 30, now=None) -> dict:
    """Latency p50/p95 per action kind and logon phase median/p95 across the finished runs of
    the last ``days`` days, grouped by scenario, host and desk pool (the image a desk is made
    from, where the target came from a pool); per group the window's aggregate and one point
    per run, oldest first. ``filters``: ``scenario`` (name), ``host`` (name), ``pool``; empty
    values are ignored. Reads at most ``METRIC_TREND_ROWS_MAX`` measured step rows, the newest
    (``truncated`` says so). Two queries."""
    import datetime as dt

    from atp_core.orchestrator.latency import LOGON_PHASES, percentile

    filters = filters or {}
    now = now or timezone.now()
    first = timezone.localdate(now) - dt.timedelta(days=days - 1)
    measured = StepResult.objects.filter(
        run__state=RunState.FINISHED, run__finished__gte=start_of_day(first)
    ).filter(Q(metrics__has_key="latency") | Q(metrics__has_key="logon.total"))
    choices = {
        "scenario": set(),
        "host": set(),
        "pool": set(),
    }
    for name, host, pool in measured.values_list(
        "run__name", "target__host__name", "target__vm__desk_pool"
    ).distinct():
        choices["scenario"].add(name)
        choices["host"].add(host or "")
        choices["pool"].add(pool or "")
    picked = {k: str(filters.get(k) or "").strip() for k in METRIC_TREND_FILTERS}
    qs = measured
    if picked["scenario"]:
        qs = qs.filter(run__name=picked["scenario"])
    if picked["host"]:
        qs = qs.filter(target__host__name=picked["host"])
    if picked["pool"]:
        qs = qs.filter(target__vm__desk_pool=picked["pool"])
    rows = list(
        qs.order_by("-run__finished", "-id").values_list(
            "run_id", "run__name", "run__finished", "target__host__name",
            "target__vm__desk_pool", "metrics",
        )[: METRIC_TREND_ROWS_MAX + 1]
    )  # fmt: skip
    truncated = len(rows) > METRIC_TREND_ROWS_MAX
    rows = rows[:METRIC_TREND_ROWS_MAX]

    groups: dict[tuple, dict] = {}
    for run_id, name, finished, host, pool, metrics in reversed(rows):
        group = groups.setdefault(
            (name, host or "", pool or ""),
            {"scenario": name, "host": host or "", "pool": pool or "", "runs": {}},
        )
        run = group["runs"].setdefault(
            run_id, {"run_id": run_id, "finished": finished, "latency": {}, "logon": {}}
        )
        metrics = metrics or {}
        if metrics.get("latency") is not None and metrics.get("action"):
            ms = float(metrics["latency"]) * 1000
            run["latency"].setdefault(str(metrics["action"]), []).append(ms)
        for phase in (*LOGON_PHASES, "total"):
            if metrics.get(f"logon.{phase}") is not None:
                run["logon"].setdefault(phase, []).append(float(metrics[f"logon.{phase}"]))

    def stats(values: list[float], low: str) -> dict:
        return {
            "count": len(values),
            low: round(percentile(values, 50), 3),
            "p95": round(percentile(values, 95), 3),
        }

    out = []
    for key in sorted(groups):
        group = groups[key]
        runs = list(group.pop("runs").values())
        kinds = sorted({k for r in runs for k in r["latency"]})
        phases = [p for p in (*LOGON_PHASES, "total") if any(p in r["logon"] for r in runs)]
        if not kinds and not phases:
            continue  # input steps without a measured latency (the hypervisor display path)
        runs = [r for r in runs if r["latency"] or r["logon"]]
        group["latency"] = [
            {
                "kind": kind,
                "runs": sum(1 for r in runs if kind in r["latency"]),
                **stats([v for r in runs for v in r["latency"].get(kind, [])], "p50"),
            }
            for kind in kinds
        ]
        group["logon"] = [
            {
                "phase": phase,
                "label": phase.replace("_", " "),
                "runs": sum(1 for r in runs if phase in r["logon"]),
                **stats([v for r in runs for v in r["logon"].get(phase, [])], "median"),
            }
            for phase in phases
        ]
        group["kinds"] = kinds
        group["runs_total"] = len(runs)
        group["run_points"] = [
            {
                "run_id": r["run_id"],
                "label": timezone.localtime(r["finished"]).strftime("%d %b %H:%M"),
                "latency": {k: stats(v, "p50") for k, v in r["latency"].items()},
                "logon": {p: stats(v, "median") for p, v in r["logon"].items()},
            }
            for r in runs[-METRIC_TREND_POINTS:]
        ]
        out.append(group)
    return {
        "groups": out,
        "filters": picked,
        "choices": {k: sorted(v) for k, v in choices.items()},
        "window_days": days,
        "truncated": truncated,
        "rows_max": METRIC_TREND_ROWS_MAX,
    }


# --- the investigation view: a failing run next to the last run of its scenario that passed ---


def variable_changes(a: dict, b: dict) -> list[dict]:
    """The variables whose values differ between two runs (missing on one side: None)."""
    return [
        {"name": k, "a": a.get(k), "b": b.get(k)}
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k) or (k in a) != (k in b)
    ]


def _unified(a: str, b: str, label_a: str, label_b: str) -> list[str]:
    import difflib

    if a == b:
        return []
    return list(difflib.unified_diff(a.splitlines(), b.splitlines(), label_a, label_b, lineterm=""))


def revision_diff(run_a: Run, run_b: Run) -> list[str]:
    """Unified diff of the scenario text the two runs ran (empty when it was the same)."""

    def label(r: Run) -> str:
        return f"run {r.pk} (revision {r.revision.number if r.revision_id else '?'})"

    return _unified(run_a.source, run_b.source, label(run_a), label(run_b))


def _package_changes(a: dict, b: dict) -> list[dict]:
    """Packages whose version differs (or that only one side has), by name."""
    return [
        {"name": k, "a": a.get(k), "b": b.get(k)}
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]


def _environment(run: Run) -> dict:
    facts = run.worker_env.facts if run.worker_env_id and run.worker_env else {}
    return {"worker": run.worker, "stored": bool(facts), **facts}


def page_investigation(run_id: int) -> dict:
    """This run and the last passing run of its scenario before it, side by side: the revision
    diff, the variables, per target (paired by position) the host, the VM's domain XML (diffed)
    and boot id, and the worker with its package versions. ``passed`` is None when the scenario
    never passed before this run. Seven queries."""
    from django.http import Http404

    run = Run.objects.select_related("scenario", "revision", "worker_env").filter(pk=run_id).first()
    if run is None:
        raise Http404(f"no run {run_id}")
    passed = last_passed_before(run)
    targets = {
        r.pk: list(r.run_targets.select_related("host").order_by("ordinal"))
        for r in filter(None, (run, passed))
    }
    failed = list(
        StepResult.objects.filter(run=run, status__in=tuple(BAD_STATUSES))
        .select_related("target")
        .order_by("target__ordinal", "ordinal", "iteration")
    )
    this_env = _environment(run)
    data = {
        "run": run,
        "passed": passed,
        "failed_steps": failed,
        "this_env": this_env,
    }
    if passed is None:
        data["target_pairs"] = [{"this": t, "passed": None} for t in targets[run.pk]]
        data["env_rows"] = _env_rows({}, this_env)
        return data
    before = targets[passed.pk]
    pairs = []
    for i, t in enumerate(targets[run.pk]):
        other = before[i] if i < len(before) else None
        pair = {"this": t, "passed": other}
        if other is not None:
            pair["same_host"] = (t.host_id, t.host_uri) == (other.host_id, other.host_uri)
            pair["same_vm"] = t.vm_name == other.vm_name
            pair["xml_diff"] = _unified(
                other.domain_xml,
                t.domain_xml,
                f"run {passed.pk} {other.name}",
                f"run {run.pk} {t.name}",
            )
            pair["same_boot"] = bool(t.boot_id) and t.boot_id == other.boot_id
        pairs.append(pair)
    passed_env = _environment(passed)
    data.update(
        target_pairs=pairs,
        extra_passed_targets=before[len(targets[run.pk]) :],
        revision_diff=revision_diff(passed, run),
        variables=[
            {**v, "changed": v["a"] != v["b"]}
            for v in (
                {"name": k, "a": (passed.variables or {}).get(k), "b": (run.variables or {}).get(k)}
                for k in sorted(set(passed.variables or {}) | set(run.variables or {}))
            )
        ],
        passed_env=passed_env,
        package_changes=_package_changes(
            passed_env.get("packages") or {}, this_env.get("packages") or {}
        )
        if passed_env["stored"] and this_env["stored"]
        else None,
        env_rows=_env_rows(passed_env, this_env),
    )
    return data


def _env_rows(passed_env: dict, this_env: dict) -> list[dict]:
    return [
        {
            "name": k,
            "a": passed_env.get(k),
            "b": this_env.get(k),
            "changed": passed_env.get(k) != this_env.get(k),
        }
        for k in ("python", "libvirt", "platform")
    ]


def investigation_json(run_id: int) -> dict:
    """``page_investigation`` as plain data, for the API (``/api/runs/<id>/investigation/``)."""
    view = page_investigation(run_id)
    run, passed = view["run"], view["passed"]

    def target(t) -> dict | None:
        if t is None:
            return None
        return {
            "name": t.name,
            "host": t.host.name if t.host_id else None,
            "host_uri": t.host_uri,
            "vm": t.vm_name,
            "boot_id": t.boot_id,
            "domain_xml_stored": bool(t.domain_xml),
        }

    def env(e: dict | None) -> dict | None:
        if e is None:
            return None
        return {k: e.get(k) for k in ("worker", "stored", "python", "libvirt", "platform")}

    return {
        "run": run.pk,
        "passed_run": passed.pk if passed else None,
        "failed_steps": [
            {
                "target": s.target.name,
                "step_id": s.step_id,
                "iteration": s.iteration,
                "name": s.name,
                "status": s.status,
                "error": s.error,
            }
            for s in view["failed_steps"]
        ],
        "revision": {
            "this": run.revision.number,
            "passed": passed.revision.number if passed else None,
            "diff": view.get("revision_diff", []),
        },
        "variables": view.get("variables", []),
        "targets": [
            {
                "this": target(p["this"]),
                "passed": target(p["passed"]),
                "domain_xml_diff": p.get("xml_diff", []),
            }
            for p in view["target_pairs"]
        ],
        "worker": {
            "this": env(view["this_env"]),
            "passed": env(view.get("passed_env")),
            "package_changes": view.get("package_changes"),
        },
    }
