"""Inventory pages; thin: reads through selectors, writes through services and tasks."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import selectors, tasks
from .models import Host


def host_list(request):
    return render(request, "hosts/host_list.html", {"live_hosts": selectors.live_hosts()})


@require_POST
def ping_vm(request, host_id: int, vm_name: str):
    host = get_object_or_404(Host, pk=host_id)
    tasks.ping_guest_agent.delay(host.pk, vm_name)
    if request.headers.get("x-requested-with") == "fetch":
        from django.http import JsonResponse

        return JsonResponse({"queued": True})
    messages.info(request, f"Guest-agent ping of {vm_name} queued")
    return redirect("hosts:list")
