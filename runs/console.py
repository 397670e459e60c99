"""A run target's console: the VM console (``hosts.console``) with every take-over recorded.

``ws/runs/<run_id>/targets/<target_id>/console/``: while the run is not finished, an operator's
console opening stores ``console_taken_over`` and its closing ``console_released`` (events of
the run, on its live view and report); a viewer's view-only console records nothing.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from atp_core.status import RunState
from atp_site.permissions import has_role
from hosts.console import ConsoleConsumer

from .event_store import record_event
from .models import Run, RunTarget


@database_sync_to_async
def _target(run_id: int, target_id: int) -> RunTarget | None:
    return (
        RunTarget.objects.select_related("host", "run").filter(pk=target_id, run_id=run_id).first()
    )


@database_sync_to_async
def _record(target: RunTarget, kind: str, user) -> None:
    state = Run.objects.filter(pk=target.run_id).values_list("state", flat=True).first()
    if state in (None, RunState.FINISHED):
        return
    record_event(
        target.run_id, kind, {"by": user.get_username(), "vm": target.vm_name}, target=target.name
    )


class RunTargetConsoleConsumer(ConsoleConsumer):
    target: RunTarget | None = None

    async def find_target(self):
        kwargs = self.scope["url_route"]["kwargs"]
        self.target = await _target(int(kwargs["run_id"]), int(kwargs["target_id"]))
        if self.target is None:
            return None
        return self.target.host, self.target.vm_name

    async def taken_over(self) -> None:
        await _record(self.target, "console_taken_over", self.scope["user"])

    async def released(self) -> None:
        await _record(self.target, "console_released", self.scope["user"])


# --- the page ----------------------------------------------------------------------------------


@require_GET
def target_console(request, run_id: int, target_id: int):
    """A run target's VM console (noVNC); an operator's typing there is a take-over."""
    from hosts.views import console_context

    target = get_object_or_404(
        RunTarget.objects.select_related("host"), pk=target_id, run_id=run_id
    )
    context = console_context(
        request,
        title=f"Console of {target.name} (run {run_id})",
        vm_name=target.vm_name,
        host=target.host,
        ws_path=f"/ws/runs/{run_id}/targets/{target.pk}/console/",
        status_url=reverse("runs:console_status", args=[run_id, target.pk]),
        back_url=reverse("runs:detail", args=[run_id]),
        back_label=f"run {run_id}",
    )
    return render(request, "hosts/console.html", context)


@require_GET
def target_console_status(request, run_id: int, target_id: int):
    from hosts.console import console_status

    target = get_object_or_404(
        RunTarget.objects.select_related("host"), pk=target_id, run_id=run_id
    )
    return JsonResponse(
        {
            **console_status(target.host, target.vm_name),
            "view_only": not has_role(request.user, "operator"),
        }
    )
