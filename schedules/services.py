"""Schedules: keep each Schedule's beat entry in step, and launch a schedule's run."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

from django.db import transaction
from django.utils import timezone

from atp_core.errors import InvalidInput

from .models import Schedule

log = logging.getLogger(__name__)

TASK_NAME = "schedules.launch"
MIN_INTERVAL = 10
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
EDITABLE_FIELDS = [
    "name",
    "scenario",
    "targets",
    "variables",
    "retries",
    "build",
    "kind",
    "every_seconds",
    "crontab",
    "enabled",
    "created_by",
    "updated",
]


def parse_every(text: str | int) -> int:
    """``"90"``, ``"30s"``, ``"15m"``, ``"2h"``, ``"1d"`` → seconds (at least 10)."""
    raw = str(text).strip().lower()
    m = re.fullmatch(r"(\d+)\s*([smhd]?)", raw)
    if not m:
        raise InvalidInput(f"every: {text!r} is not a duration (examples: 90, 30s, 15m, 2h, 1d)")
    seconds = int(m.group(1)) * _UNITS[m.group(2) or "s"]
    if seconds < MIN_INTERVAL:
        raise InvalidInput(f"every: {seconds} s is too short (at least {MIN_INTERVAL} s)")
    return seconds


def parse_crontab(text: str) -> dict:
    """``"*/5 * * * *"`` → CrontabSchedule fields; a clear error naming the bad field."""
    from celery.schedules import crontab

    fields = str(text or "").split()
    names = ["minute", "hour", "day_of_month", "month_of_year", "day_of_week"]
    if len(fields) != 5:
        raise InvalidInput(
            f"crontab: {text!r} has {len(fields)} fields; give 5: minute hour day-of-month "
            "month day-of-week (e.g. '0 3 * * 1-5')"
        )
    spec = dict(zip(names, fields, strict=True))
    for name, value in spec.items():
        try:
            crontab(**{name: value})
        except Exception as exc:  # noqa: BLE001 - celery raises ValueError and friends
            field = name.replace("_", "-")
            raise InvalidInput(f"crontab {field}: {value!r} is invalid ({exc})") from None
    return spec


def _beat_schedule(schedule: Schedule) -> dict:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

    if schedule.kind == Schedule.KIND_CRONTAB:
        spec = parse_crontab(schedule.crontab)
        cron, _ = CrontabSchedule.objects.get_or_create(**spec, timezone="UTC")
        return {"crontab": cron, "interval": None}
    if not schedule.every_seconds:
        raise InvalidInput("every: give an interval for an interval schedule")
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=schedule.every_seconds, period=IntervalSchedule.SECONDS
    )
    return {"interval": interval, "crontab": None}


def validate_targets(schedule: Schedule) -> None:
    """Refuse a schedule whose targets resolve to nothing right now (clear message)."""
    from runs.services import resolve_targets

    revision = schedule.scenario.current_revision
    if revision is None:
        raise InvalidInput(f"scenario {schedule.scenario.name}: no runnable revision to schedule")
    requested = list(schedule.targets or []) or list((revision.parsed or {}).get("targets") or [])
    if not requested:
        raise InvalidInput("targets: give VMs or a tag (the scenario has no default targets)")
    if not resolve_targets(requested):
        raise InvalidInput(f"targets: no VM matches {requested!r}")


@transaction.atomic
def save_schedule(schedule: Schedule) -> Schedule:
    """Save ``schedule`` and create/update its beat entry (enabled with it)."""
    from django_celery_beat.models import PeriodicTask

    timing = _beat_schedule(schedule)
    if schedule.pk:  # never overwrite what the beat task records (last_run, last_error, ...)
        schedule.save(update_fields=EDITABLE_FIELDS)
    else:
        schedule.save()
    task = schedule.periodic_task or PeriodicTask(name=f"atp-schedule:{schedule.pk}")
    task.task = TASK_NAME
    task.kwargs = json.dumps({"schedule_id": schedule.pk})
    task.interval = timing["interval"]
    task.crontab = timing["crontab"]
    task.enabled = schedule.enabled
    task.queue = None  # beat's default queue (CELERY_TASK_DEFAULT_QUEUE of the beat process)
    task.description = f"ATP schedule {schedule.name}: {schedule.scenario.name}"
    task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task"])
    return schedule


def next_fire(schedule: Schedule, now=None):
    """When beat fires ``schedule`` next (an aware datetime), or None when it is disabled or has
    no beat entry. Beat counts from the entry's last run, or from when it was last changed if it
    never ran; an overdue entry fires at beat's next tick, i.e. now."""
    task = schedule.periodic_task
    if not schedule.enabled or task is None or not task.enabled:
        return None
    try:
        timing = task.schedule
    except Exception:  # noqa: BLE001 - a beat entry without interval or crontab
        return None
    clock = timing.now()  # the clock remaining_estimate measures against
    remaining = timing.remaining_estimate(task.last_run_at or task.date_changed or clock)
    return max(now or timezone.now(), clock + remaining)


def set_enabled(schedule: Schedule, enabled: bool) -> Schedule:
    schedule.enabled = enabled
    return save_schedule(schedule)


@transaction.atomic
def delete_schedule(schedule: Schedule) -> None:
    task = schedule.periodic_task
    schedule.delete()
    if task is not None:
        task.delete()


def creator_problem(schedule: Schedule) -> str:
    """Why ``schedule`` may not launch on its creator's behalf ('' when it may): a creator
    who was deactivated or demoted below operator no longer launches runs. (A schedule whose
    creator was deleted, or that was made without one, runs as the system.)"""
    user = schedule.created_by
    if user is None:
        return ""
    if not user.is_active:
        return f"not launched: its creator {user.username} is deactivated"
    if user.is_superuser:
        return ""
    names = {g.name for g in user.groups.all()}  # uses a prefetch of created_by__groups
    if not names & {"operator", "admin"}:
        role = "viewer" if "viewer" in names else "no role"
        return f"not launched: its creator {user.username} is {role} now (operator needed)"
    return ""


BUILD_PLACEHOLDERS = ("{date}",)


def schedule_build(template: str, now) -> str:
    """A schedule's build label for a launch at ``now``: ``{date}`` is its UTC date."""
    return (template or "").replace("{date}", now.astimezone(dt.UTC).date().isoformat())


def check_build(template: str) -> str:
    """A schedule's build label as given (spaces dropped), refused when it could not label a run
    (too long once expanded, a control character, a brace that is not ``{date}``)."""
    from runs.services import clean_build

    value = (template or "").strip()
    rest = value
    for placeholder in BUILD_PLACEHOLDERS:
        rest = rest.replace(placeholder, "")
    if "{" in rest or "}" in rest:
        raise InvalidInput(f"build: {value!r}: the only placeholder is {{date}}")
    clean_build(schedule_build(value, timezone.now()))
    return value


def launch_schedule(schedule: Schedule, *, manual: bool = False):
    """Launch one run of ``schedule`` (its scenario's current revision); returns the Run or
    None (disabled, or the launch was refused: the reason is kept in ``last_error``)."""
    from runs.services import launch_run

    if not schedule.enabled and not manual:
        return None
    now = timezone.now()
    revision = schedule.scenario.current_revision
    try:
        problem = creator_problem(schedule)
        if problem:
            raise InvalidInput(problem)
        if revision is None:
            raise InvalidInput(f"scenario {schedule.scenario.name} has no runnable revision")
        run = launch_run(
            revision,
            list(schedule.targets or []),
            dict(schedule.variables or {}),
            schedule.created_by,
            schedule=schedule,
            retries=schedule.retries,
            build=schedule_build(schedule.build, now),
        )
    except InvalidInput as exc:
        Schedule.objects.filter(pk=schedule.pk).update(last_launched=now, last_error=str(exc))
        log.warning("schedule %s: launch refused: %s", schedule.name, exc)
        return None
    Schedule.objects.filter(pk=schedule.pk).update(last_launched=now, last_run=run, last_error="")
    log.info("schedule %s: launched run %s", schedule.name, run.pk)
    return run
