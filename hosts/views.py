"""Inventory pages; thin: reads through selectors, writes through services and tasks.

Roles: everyone reads; operators test, sync and ping; admins add, edit and remove hosts and
VDI endpoints. No view dials a hypervisor or a VDI platform: pages render what the sync tasks
stored, and test/sync/verify are queued as Celery tasks whose outcome is stored on the row and
broadcast on the inventory websocket (the page refreshes that host; a reload shows it too).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from atp_core.errors import AtpError
from atp_site.permissions import has_role, role_required

from . import selectors, services, tasks, vdi
from .filters import VmFilter
from .forms import HostForm, VdiEndpointForm
from .models import Host, VdiEndpoint, VirtualMachine


def _fetch(request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def _queued(request, what: str, error: str, back):
    if _fetch(request):
        return JsonResponse({"queued": not error, "error": error}, status=503 if error else 202)
    if error:
        messages.error(request, f"{what}: {error}")
    else:
        messages.info(request, f"{what} queued; the result appears here when it is done")
    return back


@require_GET
def host_list(request):
    hosts = selectors.host_list()
    only = request.GET.get("host", "")
    if only:
        hosts = hosts.filter(name=only)
    return render(
        request,
        "hosts/host_list.html",
        {
            "live_hosts": selectors.inventory_hosts(hosts),
            "can_operate": has_role(request.user, "operator"),
            "can_admin": has_role(request.user, "admin"),
        },
    )


@require_POST
@role_required("operator")
def ping_vm(request, host_id: int, vm_name: str):
    host = get_object_or_404(Host, pk=host_id)
    tasks.ping_guest_agent.delay(host.pk, vm_name)
    if _fetch(request):
        return JsonResponse({"queued": True})
    messages.info(request, f"Guest-agent ping of {vm_name} queued")
    return redirect("hosts:list")


@role_required("admin")
def host_add(request):
    form = HostForm(request.POST or None, initial={"uri": "qemu:///system", "slots": 4})
    if request.method == "POST" and form.is_valid():
        host = form.save()
        messages.info(request, f"Added {host.name}")
        error = tasks.queue(tasks.sync_host, host.pk)  # health, VMs, thumbnails
        return _queued(request, f"Sync of {host.name}", error, redirect("hosts:list"))
    return render(request, "hosts/host_form.html", {"form": form, "host": None})


@role_required("admin")
def host_edit(request, host_id: int):
    host = get_object_or_404(Host, pk=host_id)
    form = HostForm(request.POST or None, instance=host)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.info(request, f"Saved {host.name}")
        return redirect("hosts:list")
    return render(request, "hosts/host_form.html", {"form": form, "host": host})


@require_POST
@role_required("admin")
def host_delete(request, host_id: int):
    host = get_object_or_404(Host, pk=host_id)
    from .connections import forget_host

    forget_host(host.name)
    host.delete()
    messages.info(request, f"Removed {host.name}")
    return redirect("hosts:list")


@require_POST
@role_required("operator")
def host_test(request, host_id: int):
    host = get_object_or_404(Host, pk=host_id)
    error = tasks.queue(tasks.test_host, host.pk)
    return _queued(request, f"Connection test of {host.name}", error, redirect("hosts:list"))


@require_POST
@role_required("operator")
def host_sync(request, host_id: int):
    host = get_object_or_404(Host, pk=host_id)
    error = tasks.queue(tasks.sync_host, host.pk)
    return _queued(request, f"Sync of {host.name}", error, redirect("hosts:list"))


@require_GET
def vm_thumbnail(request, vm_id: int):
    vm = get_object_or_404(VirtualMachine, pk=vm_id)
    if not vm.thumbnail:
        raise Http404("no thumbnail yet")
    response = FileResponse(vm.thumbnail.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=10"
    return response


@require_GET
def vm_screen(request, vm_id: int):
    """The VM's screen now, full size (what a thumbnail opens): a libvirt screenshot."""
    vm = get_object_or_404(VirtualMachine.objects.select_related("host"), pk=vm_id)
    try:
        png = services.take_screenshot(vm.host, vm.name)
    except (AtpError, OSError) as exc:
        return HttpResponse(
            f"no screenshot of {vm.name} on {vm.host.name}: {exc}",
            status=503,
            content_type="text/plain",
        )
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=1"
    return response


def console_context(
    request,
    *,
    title: str,
    vm_name: str,
    host,
    ws_path: str,
    status_url: str,
    back_url: str,
    back_label: str,
) -> dict:
    return {
        "title": title,
        "vm_name": vm_name,
        "host": host,
        "ws_path": ws_path,
        "status_url": status_url,
        "back_url": back_url,
        "back_label": back_label,
        "view_only": not has_role(request.user, "operator"),
    }


@require_GET
def vm_console(request, vm_id: int):
    """The VM's screen in the browser (noVNC); operators type, viewers watch."""
    vm = get_object_or_404(VirtualMachine.objects.select_related("host"), pk=vm_id)
    context = console_context(
        request,
        title=f"Console of {vm.name}",
        vm_name=vm.name,
        host=vm.host,
        ws_path=f"/ws/vms/{vm.pk}/console/",
        status_url=reverse("hosts:vm_console_status", args=[vm.pk]),
        back_url=reverse("hosts:vms"),
        back_label="VMs",
    )
    return render(request, "hosts/console.html", context)


@require_GET
def vm_console_status(request, vm_id: int):
    """Whether the console can open now (the page asks before connecting and after it ends)."""
    from .console import console_status

    vm = get_object_or_404(VirtualMachine.objects.select_related("host"), pk=vm_id)
    return JsonResponse(
        {**console_status(vm.host, vm.name), "view_only": not has_role(request.user, "operator")}
    )


@require_GET
def vm_list(request):
    """The stored VMs, ATP_VMS_PAGE_SIZE a page; the filters stay in the pager's links."""
    found = VmFilter(request.GET, queryset=selectors.vms())
    errors = [f"{problem} (this filter is not applied)" for problem in found.problems()]
    query, tag = request.GET.get("q", "").strip(), request.GET.get("tag", "").strip()
    page = Paginator(found.qs, settings.ATP_VMS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hosts/vm_list.html",
        {
            "vms": page.object_list,
            "page": page,
            "query": query,
            "tag": tag,
            "filter_query": urlencode(
                [(k, v) for k in VmFilter.base_filters for v in request.GET.getlist(k) if v.strip()]
            ),
            "filter_errors": errors,
        },
        status=400 if errors else 200,
    )


# --- VDI endpoints ----------------------------------------------------------------------------


@require_GET
def vdi_list(request):
    return render(
        request,
        "hosts/vdi_list.html",
        {
            "endpoints": selectors.vdi_endpoints(),
            "can_operate": has_role(request.user, "operator"),
            "can_admin": has_role(request.user, "admin"),
        },
    )


@require_GET
def vdi_detail(request, endpoint_id: int):
    endpoint = get_object_or_404(VdiEndpoint.objects.select_related("libvirt_host"), pk=endpoint_id)
    return render(
        request,
        "hosts/vdi_detail.html",
        {
            "endpoint": endpoint,
            "vms": selectors.vdi_vms(endpoint),
            "verify": endpoint.last_verify,
            "can_operate": has_role(request.user, "operator"),
            "can_admin": has_role(request.user, "admin"),
        },
    )


@role_required("admin")
def vdi_add(request):
    form = VdiEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save()
        messages.info(request, f"Added {endpoint.name}")
        error = tasks.queue(tasks.vdi_action, "test", endpoint.pk)
        back = redirect("hosts:vdi_detail", endpoint.pk)
        return _queued(request, f"Login test of {endpoint.name}", error, back)
    return render(request, "hosts/vdi_form.html", {"form": form, "endpoint": None})


@role_required("admin")
def vdi_edit(request, endpoint_id: int):
    endpoint = get_object_or_404(VdiEndpoint, pk=endpoint_id)
    form = VdiEndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.info(request, f"Saved {endpoint.name}")
        # test again at once: a fixed password must not stay "down" with the old error
        error = tasks.queue(tasks.vdi_action, "test", endpoint.pk)
        back = redirect("hosts:vdi_detail", endpoint.pk)
        return _queued(request, f"Login test of {endpoint.name}", error, back)
    return render(request, "hosts/vdi_form.html", {"form": form, "endpoint": endpoint})


@require_POST
@role_required("admin")
def vdi_delete(request, endpoint_id: int):
    endpoint = get_object_or_404(VdiEndpoint, pk=endpoint_id)
    endpoint.delete()
    messages.info(request, f"Removed {endpoint.name}")
    return redirect("hosts:vdi_list")


@require_POST
@role_required("operator")
def vdi_action(request, endpoint_id: int, action: str):
    endpoint = get_object_or_404(VdiEndpoint, pk=endpoint_id)
    if action not in vdi.ACTIONS:
        raise Http404("unknown action")
    error = tasks.queue(tasks.vdi_action, action, endpoint.pk)
    back = redirect("hosts:vdi_detail", endpoint.pk)
    return _queued(request, f"{action.capitalize()} of {endpoint.name}", error, back)
