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
from celery.signals import after_setup_logger, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atp_site.settings")

app = Celery("atp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HOST_QUEUE_PREFIX = "host."

MISSING_SECRET_KEY = (
    "refusing to start the worker: SECRET_KEY is not set. Every machine (web, workers) must "
    "share one explicit SECRET_KEY (it decrypts stored secrets and signs webhooks); set it in "
    "the environment, or set ATP_DEMO=1 for a one-machine demo that uses var/secret_key "
    "(docs/deployment.md)."
)


def secret_key_problem(environ: dict | None = None) -> str | None:
    """Why a worker may not start with this environment, or None: outside the demo
    (``ATP_DEMO=1``) a worker needs an explicit ``SECRET_KEY``, never the generated file key,
    which would differ from the web server's on another machine."""
    environ = os.environ if environ is None else environ
    if environ.get("SECRET_KEY") or environ.get("ATP_DEMO", "").lower() in ("1", "true", "yes"):
        return None
    return MISSING_SECRET_KEY


@worker_init.connect
def _refuse_without_secret_key(**_kwargs: Any) -> None:
    problem = secret_key_problem()
    if problem:
        raise SystemExit(problem)


@after_setup_logger.connect
def _levels_per_layer(**_kwargs: Any) -> None:
    """Celery sets the root level from ``-l``; ``ATP_LOG``'s per-logger levels still apply."""
    import logging

    from atp_core.logconfig import parse_log_spec

    _root, loggers = parse_log_spec(os.environ.get("ATP_LOG"))
    for name, level in loggers.items():
        logging.getLogger(name).setLevel(level)


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


def run_timeout(run: Any) -> float:
    """The seconds a run may take: its scenario's timeout, plus ATP_PAUSE_MAX when it may
    pause (developer mode: a pause does not count against the scenario's timeout)."""
    from django.conf import settings

    parsed = getattr(getattr(run, "revision", None), "parsed", None)
    timeout = scenario_timeout(parsed)
    if getattr(run, "pause_on", "") or (parsed or {}).get("pause_on"):
        timeout += float(getattr(settings, "ATP_PAUSE_MAX", 0))
    return timeout


def run_task_options(run: Any) -> dict:
    """``apply_async`` options for ``runs.tasks.execute_run`` of ``run``: its queue and limits.

    Use: ``execute_run.apply_async(args=[run.pk], **run_task_options(run))``.
    """
    soft, hard = time_limits(run_timeout(run))
    opts: dict = {"soft_time_limit": soft, "time_limit": hard}
    if getattr(run, "queue", ""):
        opts["queue"] = run.queue
    return opts


def _patch_kombu_redis_restore() -> None:
    """Keep a worker alive when its Redis broker restarts.

    On a lost connection Celery 5.7 closes the broker connection after ``collect()`` has already
    dropped the transport's client; closing the channel then tries to move this worker's
    unacknowledged messages back to their queues through that client and fails with
    ``AttributeError: 'NoneType' object has no attribute 'hostname'``, which Celery treats as
    unrecoverable (the worker exits after its running tasks). The messages are still in Redis'
    ``unacked`` hash; skipping the restore there is safe: a task still running acknowledges its
    message, and the reaper re-sends a queued run that no worker took (from the database).

    Kept only while a test fails without it: ``tests/dist/test_dist_redis_restart.py`` (the
    worker must survive a Redis restart mid-run and take the next run, and no message may stay
    unacknowledged); with kombu 5.7.0 and the patch disabled it fails on "Unrecoverable error:
    AttributeError: 'NoneType' object has no attribute 'hostname'" in the worker's log.
    Related upstream reports: https://github.com/celery/kombu/issues/970
    (restore of unacknowledged messages failing on a closed connection) and
    https://github.com/celery/celery/issues/10205 (worker stuck after a Redis connection reset).
    Only the Redis transport is patched; the reaper reads nothing of Kombu.
    """
    import logging

    try:
        from kombu.transport import redis as kombu_redis
        from kombu.transport import virtual as kombu_virtual
    except ImportError:  # redis client not installed: not a Redis broker
        return
    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "_atp_patched", False):
        return

    def restore_unacked(self, client=None):
        if client is None and getattr(self.channel.connection, "client", None) is None:
            logging.getLogger(__name__).warning(
                "broker connection lost: %d unacknowledged message(s) left in Redis",
                len(self._delivered),
            )
            return None
        return original(self, client)

    def ack(self, delivery_tag):
        if getattr(self.channel.connection, "client", None) is not None:
            return original_ack(self, delivery_tag)
        # a task that ran through a broker restart acknowledges on its old channel, whose
        # connection is gone: remove the message from Redis' unacked index with a new client
        import redis

        try:
            client = redis.Redis.from_url(app.conf.broker_url, socket_timeout=10)
            with client.pipeline() as pipe:
                pipe.zrem(self.unacked_index_key, delivery_tag)
                pipe.hdel(self.unacked_key, delivery_tag)
                pipe.execute()
            client.close()
        except Exception:  # noqa: BLE001 - the reaper copes with a message left behind
            logging.getLogger(__name__).warning(
                "late acknowledgement of %s failed", delivery_tag, exc_info=True
            )
        return kombu_virtual.QoS.ack(self, delivery_tag)

    original_ack = kombu_redis.QoS.ack
    restore_unacked._atp_patched = True
    kombu_redis.QoS.restore_unacked = restore_unacked
    kombu_redis.QoS.ack = ack


_patch_kombu_redis_restore()
