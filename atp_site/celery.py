"""The Celery app; tasks live in each app's tasks.py and stay thin.

Runs go to one queue per host (``host.<name>``): a worker started next to a hypervisor with
``celery -A atp_site worker -Q host.<name>`` takes that host's runs. Each run's task carries its
own soft and hard time limits, computed at send time from the scenario timeout
(``run_task_options``). See docs/deployment.md.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atp_site.settings")

app = Celery("atp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HOST_QUEUE_PREFIX = "host."


def queue_for_host(host_name: str) -> str:
    """The queue of a host's runs: ``host.<name>``."""
    return f"{HOST_QUEUE_PREFIX}{host_name}"


def scenario_timeout(parsed: dict | None) -> float:
    """The scenario's whole-run timeout in seconds (``timeout`` of the parsed scenario), else
    the settings default."""
    from django.conf import settings

    value = (parsed or {}).get("timeout")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return float(settings.ATP_RUN_DEFAULT_TIMEOUT)
    return seconds if seconds > 0 else float(settings.ATP_RUN_DEFAULT_TIMEOUT)


def time_limits(timeout: float) -> tuple[int, int]:
    """(soft, hard) Celery time limits for a run whose scenario timeout is ``timeout`` seconds.

    soft = timeout + margin (the engine's own timeout fires first; the margin covers teardown
    and reports), hard = soft + grace. The timeout is clamped to ATP_RUN_MAX_SECONDS so the
    hard limit always stays below the broker's visibility timeout.
    """
    from django.conf import settings

    timeout = min(max(float(timeout), 1.0), float(settings.ATP_RUN_MAX_SECONDS))
    soft = int(timeout + settings.ATP_RUN_TIME_LIMIT_MARGIN)
    hard = int(soft + settings.ATP_RUN_HARD_LIMIT_GRACE)
    return soft, hard


def run_task_options(run: Any) -> dict:
    """``apply_async`` options for ``runs.tasks.execute_run`` of ``run``: its queue and limits.

    Use: ``execute_run.apply_async(args=[run.pk], **run_task_options(run))``.
    """
    parsed = getattr(getattr(run, "revision", None), "parsed", None)
    soft, hard = time_limits(scenario_timeout(parsed))
    opts: dict = {"soft_time_limit": soft, "time_limit": hard}
    if getattr(run, "queue", ""):
        opts["queue"] = run.queue
    return opts
