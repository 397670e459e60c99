"""Schedule and notification pages: everyone reads, operators manage."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from atp_core.errors import InvalidInput
from atp_site.permissions import has_role, role_required
from runs.webhooks import mask_url

from . import services
from .forms import NotificationHookForm, ScheduleForm
from .models import Notification, NotificationHook, Schedule


def _with_next_fire(schedules) -> list[Schedule]:
    rows = list(schedules)
    for s in rows:
        s.next_fire = services.next_fire(s)
        s.blocked = services.creator_problem(s)
    return rows


@require_GET
def schedule_list(request):
    return render(
        request,
        "schedules/schedule_list.html",
        {
            "schedules": _with_next_fire(
                Schedule.objects.select_related(
                    "scenario",
                    "last_run",
                    "periodic_task__interval",
                    "periodic_task__crontab",
                    "created_by",
                ).prefetch_related("created_by__groups")
            ),
            "hooks": NotificationHook.objects.select_related("scenario"),
            "global_urls": settings.ATP_WEBHOOK_URLS,
            "global_urls_masked": [mask_url(u) for u in settings.ATP_WEBHOOK_URLS],
            "global_emails": settings.ATP_NOTIFY_EMAILS,
            "recent": Notification.objects.select_related("run")[:20],
            "can_operate": has_role(request.user, "operator"),
        },
    )


@role_required("operator")
def schedule_add(request):
    form = ScheduleForm(request.POST or None, initial={"kind": "interval", "every": "1h"})
    if request.method == "POST" and form.is_valid():
        schedule = form.save(commit=False)
        schedule.created_by = request.user
        services.save_schedule(schedule)
        messages.info(request, f"Schedule {schedule.name} saved: {schedule.when}")
        return redirect("schedules:list")
    return render(request, "schedules/schedule_form.html", {"form": form, "schedule": None})


@role_required("operator")
def schedule_edit(request, schedule_id: int):
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    form = ScheduleForm(request.POST or None, instance=schedule)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.info(request, f"Schedule {schedule.name} saved: {schedule.when}")
        return redirect("schedules:list")
    return render(request, "schedules/schedule_form.html", {"form": form, "schedule": schedule})


@require_POST
@role_required("operator")
def schedule_toggle(request, schedule_id: int, on: bool):
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    services.set_enabled(schedule, on)
    messages.info(request, f"Schedule {schedule.name} {'enabled' if on else 'disabled'}")
    return redirect("schedules:list")


@require_POST
@role_required("operator")
def schedule_run_now(request, schedule_id: int):
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    run = services.launch_schedule(schedule, manual=True)
    if run is None:
        schedule.refresh_from_db()
        messages.error(request, f"Schedule {schedule.name}: {schedule.last_error}")
        return redirect("schedules:list")
    messages.info(request, f"Schedule {schedule.name}: run {run.pk} queued")
    return redirect(run.get_absolute_url())


@require_POST
@role_required("operator")
def schedule_delete(request, schedule_id: int):
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    services.delete_schedule(schedule)
    messages.info(request, f"Schedule {schedule.name} removed")
    return redirect("schedules:list")


@role_required("operator")
def hook_add(request):
    form = NotificationHookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        hook = form.save()
        messages.info(request, f"Notification {hook.name} saved")
        return redirect("schedules:list")
    return render(request, "schedules/hook_form.html", {"form": form, "hook": None})


@role_required("operator")
def hook_edit(request, hook_id: int):
    hook = get_object_or_404(NotificationHook, pk=hook_id)
    form = NotificationHookForm(request.POST or None, instance=hook)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.info(request, f"Notification {hook.name} saved")
        return redirect("schedules:list")
    return render(request, "schedules/hook_form.html", {"form": form, "hook": hook})


@require_POST
@role_required("operator")
def hook_delete(request, hook_id: int):
    hook = get_object_or_404(NotificationHook, pk=hook_id)
    hook.delete()
    messages.info(request, f"Notification {hook.name} removed")
    return redirect("schedules:list")


@require_POST
@role_required("operator")
def hook_test(request, hook_id: int):
    """Send a test POST to the hook's webhook now (one attempt) and say how it answered."""
    from django.utils import timezone

    from runs.notify import post_webhook

    hook = get_object_or_404(NotificationHook, pk=hook_id)
    if not hook.url:
        messages.error(request, f"Notification {hook.name} has no webhook URL to test.")
        return redirect("schedules:list")
    payload = {"event": "test", "notification": hook.name, "sent": timezone.now().isoformat()}
    try:
        secret = hook.get_secret()
    except InvalidInput as exc:
        messages.error(request, f"Notification {hook.name}: {exc}")
        return redirect("schedules:list")
    delivery = post_webhook(
        hook.url,
        payload,
        timeout=min(settings.ATP_WEBHOOK_TIMEOUT, 5.0),
        retries=0,
        secret=secret,
        event="test",
    )
    where = hook.masked_url
    if delivery.ok:
        signed = " (signed)" if secret else ""
        messages.info(
            request, f"Test sent{signed} to {where}: it answered HTTP {delivery.status_code}."
        )
    else:
        messages.error(request, f"Test to {where} failed: {delivery.detail}")
    return redirect("schedules:list")
