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

Each POST has a timeout (ATP_WEBHOOK_TIMEOUT). The first is made by the notification task; on a
connection error, a timeout, 408, 429 or 5xx the task ``runs.retry_webhook`` tries again up to
ATP_WEBHOOK_RETRIES times through Celery's own retry, after a jittered exponential pause
(ATP_WEBHOOK_BACKOFF s, doubling, at most ATP_WEBHOOK_BACKOFF_MAX), so no worker sleeps on a slow
webhook; other 4xx are final. The Notification row counts the attempts. Where a
webhook may point (public addresses only, unless ATP_WEBHOOK_ALLOW_NETWORKS), redirects, what is
kept of the answer (its status) and the signature header: ``runs/webhooks.py``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
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
    """POST ``payload`` as JSON to ``url`` now, in the calling process (the hooks page's Test
    button sends one attempt): 1 + ``retries`` attempts, ``timeout`` s each, under the outbound
    policy of ``runs.webhooks`` (public addresses, no redirects, status only). A run's
    notifications never wait here: their next attempts are the Celery task ``retry_webhook``."""
    retries = settings.ATP_WEBHOOK_RETRIES if retries is None else retries
    for attempt in range(1, retries + 2):
        delivery, retryable = post_attempt(url, payload, attempt, timeout, secret, event)
        if not retryable or attempt > retries:
            return delivery
        time.sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def post_attempt(
    url: str,
    payload: dict,
    attempt: int = 1,
    timeout: float | None = None,
    secret: str = "",
    event: str = "run_finished",
) -> tuple[Delivery, bool]:
    """One POST of ``payload`` to ``url``: (its Delivery as attempt ``attempt``, whether
    another attempt may succeed)."""
    from .webhooks import SendError, WebhookRefused, encode, post_once, status_sentence

    timeout = settings.ATP_WEBHOOK_TIMEOUT if timeout is None else timeout
    try:
        status = post_once(url, encode(payload), timeout=timeout, secret=secret, event=event)
    except WebhookRefused as exc:
        return Delivery(False, attempt, None, str(exc)), False
    except SendError as exc:
        return Delivery(False, attempt, None, str(exc)), exc.retryable
    if 200 <= status < 300:
        return Delivery(True, attempt, status, ""), False
    return Delivery(False, attempt, status, status_sentence(status)), status in RETRYABLE_STATUS


def retry_pause(attempts: int) -> int:
    """Seconds before the attempt after ``attempts`` failed ones (Celery's jittered
    exponential backoff)."""
    return get_exponential_backoff_interval(
        factor=settings.ATP_WEBHOOK_BACKOFF,
        retries=attempts - 1,
        maximum=settings.ATP_WEBHOOK_BACKOFF_MAX,
        full_jitter=True,
    )


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
        delivery, retryable = post_attempt(url, payload, secret=secret)
        _store(row, delivery)
        outcome[url] = delivery.ok
        if not delivery.ok:
            log.warning("run %s: webhook %s failed: %s", run.pk, mask_url(url), delivery.detail)
            if retryable and row and settings.ATP_WEBHOOK_RETRIES > 0:
                queue = settings.CELERY_TASK_DEFAULT_QUEUE
                retry_webhook.apply_async(args=[row.pk], countdown=retry_pause(1), queue=queue)
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


@shared_task(name="runs.retry_webhook", bind=True, ignore_result=True)
def retry_webhook(self, notification_id: int) -> bool | None:
    """The next attempt of a webhook delivery that failed retryably; Celery retries this
    task (``self.retry``) after a growing pause while attempts are left. The Notification row
    is the truth: a delivery already made, or out of attempts, is left as it is."""
    from schedules.models import Notification

    row = Notification.objects.select_related("run").filter(pk=notification_id).first()
    retries = settings.ATP_WEBHOOK_RETRIES
    if row is None or row.ok or row.channel != "webhook" or row.attempts > retries:
        return None
    run = row.run
    urls, _ = destinations(run)
    delivery, retryable = post_attempt(
        row.target, run_payload(run), row.attempts + 1, secret=urls.get(row.target, "")
    )
    _store(row, delivery)
    if delivery.ok:
        return True
    log.warning(
        "run %s: webhook %s attempt %s failed: %s",
        run.pk,
        mask_url(row.target),
        delivery.attempts,
        delivery.detail,
    )
    if retryable and delivery.attempts <= retries:
        raise self.retry(countdown=retry_pause(delivery.attempts), max_retries=retries)
    return False


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
