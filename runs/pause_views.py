"""Developer mode pages: a paused target's state (for the live view) and the decisions that
resume it. Thin: the state is read from the run's events and written through ``runs.pausing``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from atp_core.errors import InvalidInput
from atp_core.status import RunState
from atp_site.permissions import has_role, role_required

from . import pausing
from .models import RunTarget


def _target(run_id: int, target_id: int) -> RunTarget:
    return get_object_or_404(
        RunTarget.objects.select_related("run", "vm"), pk=target_id, run_id=run_id
    )


def _artifact_url(run_id: int, target: RunTarget, step_id: str, name: str | None) -> str:
    if not name:
        return ""
    query = urlencode({"name": name, "target": target.name, "step": step_id})
    return f"{reverse('runs:artifact_find', args=[run_id])}?{query}"


def pause_state(run_id: int, target: RunTarget, user) -> dict:
    """What the live view's pause panel shows for ``target`` (``paused: false`` when none)."""
    pause = pausing.current_pause(run_id, target.name)
    if pause is None or target.run.state == RunState.FINISHED:
        return {"paused": False}
    data = pause["data"]
    check = data.get("check") or {}
    reference = data.get("reference") or check.get("reference") or ""
    step_id = pause["step_id"]
    run_url = reverse("runs:detail", args=[run_id])
    fix_url = ""
    if reference and target.vm_id:
        query = urlencode({"vm": target.vm_id, "from": reference, "next": run_url})
        fix_url = f"{reverse('scenarios:reference_new')}?{query}"
    return {
        "paused": True,
        "pause": pause,
        "reference": reference,
        "reference_url": reverse("scenarios:reference_image", args=[reference])
        if reference
        else "",
        "best_url": _artifact_url(run_id, target, step_id, check.get("best")),
        "diff_url": _artifact_url(run_id, target, step_id, check.get("diff")),
        "console_url": reverse("runs:console", args=[run_id, target.pk]),
        "fix_url": fix_url,
        "resume_url": reverse("runs:resume", args=[run_id, target.pk]),
        "can_operate": has_role(user, "operator"),
    }


@require_GET
def target_pause(request, run_id: int, target_id: int):
    target = _target(run_id, target_id)
    return JsonResponse(pause_state(run_id, target, request.user))


@require_POST
@role_required("operator")
def target_resume(request, run_id: int, target_id: int):
    """``decision`` = retry | skip | continue for the target's open pause."""
    target = _target(run_id, target_id)
    try:
        pausing.request_resume(target.run, target, request.POST.get("decision", ""), request.user)
    except InvalidInput as exc:
        if request.headers.get("x-requested-with") == "fetch":
            return JsonResponse({"ok": False, "error": str(exc)}, status=409)
        from django.contrib import messages

        messages.error(request, str(exc))
        return redirect("runs:detail", run_id)
    if request.headers.get("x-requested-with") == "fetch":
        return JsonResponse({"ok": True})
    return redirect("runs:detail", run_id)
