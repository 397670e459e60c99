"""Notifications when a run finishes: webhooks (POST JSON) and e-mail.

Where they go: ``settings.ATP_WEBHOOK_URLS`` / ``ATP_NOTIFY_EMAILS`` (every run) and the enabled
``schedules.NotificationHook`` rows (every scenario, or one, optionally only some results).
``on_run_finished(run_id)`` is called by ``runs.lifecycle.finish`` only, once per run; it sends
the Celery task ``runs.notify_run_finished`` after the transaction commits, on the default queue,
so a slow webhook never holds a run's worker. Each (run, channel, address) is delivered at most once
(``schedules.Notification`` rows record the outcome and make a second call a no-op).

Webhook body::

    {"event": "run_finished", "run_id": 12, "scenario": "login-smoke", "result": "passed",
     "state": "finished", "reason": "", "url": "https://atp.example/runs/12/",
     "totals": {"passed": 5, ...}, "started": "...", "finished": "...", "duration": 41.2,
     "attempt": 1, "max_attempts": 1, "schedule": "nightly", "launched_by": "alice",
     "targets": [{"name": "host/vm", "result": "passed", "totals": {...}}]}

Each POST has a timeout (ATP_WEBHOOK_TIMEOUT) and is retried (ATP_WEBHOOK_RETRIES) with a
growing pause on connection errors, timeouts, 408, 429 and 5xx; other 4xx are final. Where a
webhook may point (public addresses only, unless ATP_WEBHOOK_ALLOW_NETWORKS), redirects, what is
kept of the answer (its status) and the signature header: ``runs/webhooks.py``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction

from atp_core.errors import InvalidInput
from atp_core.status import RunState

from .webhooks import mask_url

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class Delivery:
    ok: bool
    attempts: int
    status_code: int | None = None
    detail: str = ""


def run_payload(run) -> dict:
    """The JSON document sent for a finished ``run``."""
    url = settings.ATP_SITE_URL + run.get_absolute_url()
    return {
        "event": "run_finished",
        "run_id": run.pk,
        "scenario": run.name,
        "result": run.result,
        "state": run.state,
        "reason": run.reason,
        "url": url,
        "totals": run.totals or {},
        "started": run.started.isoformat() if run.started else None,
        "finished": run.finished.isoformat() if run.finished else None,
        "duration": run.duration,
        "attempt": run.attempt,
        "max_attempts": run.max_attempts,
        "schedule": run.schedule_name,
        "launched_by": run.launched_by.username if run.launched_by_id else "",
        "targets": [
            {"name": t.name, "result": t.result, "totals": t.totals or {}}
            for t in run.run_targets.all()
        ],
    }


def post_webhook(
    url: str,
    payload: dict,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float = 1.0,
    secret: str = "",
    event: str = "run_finished",
) -> Delivery:
    """POST ``payload`` as JSON to ``url``: 1 + ``retries`` attempts, ``timeout`` s each, under
    the outbound policy of ``runs.webhooks`` (public addresses, no redirects, status only)."""
    from .webhooks import SendError, WebhookRefused, encode, post_once, status_sentence

    timeout = settings.ATP_WEBHOOK_TIMEOUT if timeout is None else timeout
    retries = settings.ATP_WEBHOOK_RETRIES if retries is None else retries
    body = encode(payload)
    detail = ""
    status = None
    for attempt in range(1, retries + 2):
        try:
            status = post_once(url, body, timeout=timeout, secret=secret, event=event)
        except WebhookRefused as exc:
            return Delivery(False, attempt, None, str(exc))
        except SendError as exc:
            detail = str(exc)
        else:
            if 200 <= status < 300:
                return Delivery(True, attempt, status, "")
            detail = status_sentence(status)
            if status not in RETRYABLE_STATUS:
                return Delivery(False, attempt, status, detail)
        if attempt <= retries:
            time.sleep(backoff * 2 ** (attempt - 1))
    return Delivery(False, retries + 1, status, detail)


def destinations(run) -> tuple[dict[str, str], list[str]]:
    """({webhook URL: signing secret}, e-mail addresses) for ``run``: the settings' plus the
    matching hooks'."""
    urls = {url: "" for url in settings.ATP_WEBHOOK_URLS}
    emails = list(settings.ATP_NOTIFY_EMAILS)
    from schedules.models import NotificationHook

    hooks = NotificationHook.objects.filter(enabled=True).filter(
        scenario__isnull=True
    ) | NotificationHook.objects.filter(enabled=True, scenario_id=run.scenario_id)
    for hook in hooks:
        if hook.results and run.result not in hook.results:
            continue
        if hook.url and not urls.get(hook.url):
            try:
                urls[hook.url] = hook.get_secret()
            except InvalidInput as exc:  # SECRET_KEY rotated: sent unsigned, and said so
                log.warning("notification %s: %s", hook.name, exc)
                urls[hook.url] = ""
        emails.extend(hook.email_list)
    return urls, list(dict.fromkeys(emails))


def _claim(run, channel: str, target: str):
    """A Notification row for (run, channel, target), or None if it was already sent."""
    from schedules.models import Notification

    try:
        with transaction.atomic():
            return Notification.objects.create(run=run, channel=channel, target=target[:500])
    except IntegrityError:
        return False


def _store(row, delivery: Delivery) -> None:
    if not row:
        return
    row.ok = delivery.ok
    row.attempts = delivery.attempts
    row.status_code = delivery.status_code
    row.detail = delivery.detail[:2000]
    row.save(update_fields=["ok", "attempts", "status_code", "detail"])


def send_email(run, addresses: list[str], payload: dict) -> Delivery:
    from django.core.mail import send_mail

    subject = f"[ATP] {run.name}: {run.result or run.state} (run {run.pk})"
    totals = ", ".join(f"{k} {v}" for k, v in (payload["totals"] or {}).items()) or "-"
    lines = [
        f"Scenario: {run.name}",
        f"Result:   {run.result or run.state}",
        f"Totals:   {totals}",
        f"Duration: {payload['duration'] or 0:.1f} s",
        f"Report:   {payload['url']}",
    ]
    if run.reason:
        lines.append(f"Reason:   {run.reason}")
    if run.schedule_name:
        lines.append(f"Schedule: {run.schedule_name}")
    try:
        send_mail(subject, "\n".join(lines) + "\n", None, addresses, fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any mail backend error is reported, not raised
        return Delivery(False, 1, None, f"{type(exc).__name__}: {exc}")
    return Delivery(True, 1)


def notify_run_finished(run_id: int) -> dict:
    """Send every notification of a finished run once; returns {address: ok}."""
    from runs.models import Run

    run = Run.objects.select_related("launched_by").filter(pk=run_id).first()
    if run is None or run.state != RunState.FINISHED:
        return {}
    urls, emails = destinations(run)
    if not urls and not emails:
        return {}
    payload = run_payload(run)
    outcome: dict[str, bool] = {}
    for url, secret in urls.items():
        row = _claim(run, "webhook", url)
        if row is False:
            continue
        delivery = post_webhook(url, payload, secret=secret)
        _store(row, delivery)
        outcome[url] = delivery.ok
        if not delivery.ok:
            log.warning("run %s: webhook %s failed: %s", run.pk, mask_url(url), delivery.detail)
    if emails:
        row = _claim(run, "email", ",".join(emails))
        if row is not False:
            delivery = send_email(run, emails, payload)
            _store(row, delivery)
            outcome["mailto:" + ",".join(emails)] = delivery.ok
            if not delivery.ok:
                log.warning("run %s: e-mail failed: %s", run.pk, delivery.detail)
    return outcome


@shared_task(name="runs.notify_run_finished", ignore_result=True)
def notify_run_finished_task(run_id: int) -> dict:
    return notify_run_finished(run_id)


def on_run_finished(run_id: int) -> None:
    """Queue the notifications of ``run_id`` once the current transaction commits."""

    def send() -> None:
        try:
            queue = settings.CELERY_TASK_DEFAULT_QUEUE
            notify_run_finished_task.apply_async(args=[run_id], queue=queue)
        except Exception:  # noqa: BLE001 - broker down: notify inline rather than not at all
            log.warning("run %s: notification task not queued; sending inline", run_id)
            try:
                notify_run_finished(run_id)
            except Exception:  # noqa: BLE001
                log.exception("run %s: notification failed", run_id)

    transaction.on_commit(send)
