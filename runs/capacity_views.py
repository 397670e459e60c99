"""Capacity pages: the list (every host's capacity runs, a launch form for operators), one
run's page (the verdict, the latency-vs-desks curve, the table of steps) and its cancel. Thin:
reads through ``capacity_presenters``, writes through ``capacity_services``."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from atp_core.errors import InvalidInput
from atp_core.orchestrator.capacity import MAX_DESKS_LIMIT, MAX_KEYS_LIMIT
from atp_site.permissions import has_role, role_required
from hosts.models import Host

from . import capacity_presenters, capacity_services
from .filters import CapacityRunFilter
from .models import CapacityRun


@require_GET
def capacity_list(request):
    found = CapacityRunFilter(request.GET, queryset=CapacityRun.objects.all())
    errors = [f"{problem} (this filter is not applied)" for problem in found.problems()]
    host = found.form.cleaned_data.get("host") or ""
    page = Paginator(found.qs, 50).get_page(request.GET.get("page"))
    hosts = list(Host.objects.filter(enabled=True).order_by("name"))
    templates = capacity_services.template_choices(hosts)
    on_host = [t for t in templates if t["host"] == host] or templates
    chosen = next((t for t in on_host if not t["problem"]), None)
    return render(
        request,
        "runs/capacity_list.html",
        {
            "page": page,
            "host": host,
            "hosts": hosts,
            "suitable": [t for t in templates if t["checked"] and not t["problem"]],
            "unchecked": [t for t in templates if not t["checked"]],
            "unsuitable": [t for t in templates if t["problem"]],
            "chosen": chosen,
            "can_operate": has_role(request.user, "operator"),
            "max_desks_limit": MAX_DESKS_LIMIT,
            "max_keys_limit": MAX_KEYS_LIMIT,
            "filter_errors": errors,
        },
        status=400 if errors else 200,
    )


@require_POST
@role_required("operator")
def capacity_launch(request):
    data = request.POST
    try:
        run = capacity_services.launch_capacity(
            host=data.get("host", ""),
            template=data.get("template", ""),
            max_desks=data.get("max_desks", ""),
            keys=data.get("keys", ""),
            threshold=data.get("threshold", "") or 0.15,
            user=request.user,
        )
    except InvalidInput as exc:
        messages.error(request, f"Capacity run not launched: {exc}")
        return redirect("runs:capacity_list")
    messages.info(request, f"Capacity run {run.pk} queued on {run.host_name}")
    return redirect(run.get_absolute_url())


@require_GET
def capacity_detail(request, capacity_id: int):
    run = get_object_or_404(CapacityRun, pk=capacity_id)
    return render(
        request,
        "runs/capacity_detail.html",
        {
            **capacity_presenters.capacity_page(run),
            "can_operate": has_role(request.user, "operator"),
        },
    )


@require_POST
@role_required("operator")
def capacity_cancel(request, capacity_id: int):
    run = get_object_or_404(CapacityRun, pk=capacity_id)
    if run.is_active:
        capacity_services.request_cancel(run)
        messages.info(request, f"Cancel of capacity run {run.pk} asked")
    return redirect(run.get_absolute_url())
