"""Inventory pages; thin: reads through selectors, writes through services and tasks.

Roles: everyone reads; operators test, sync and ping; admins add, edit and remove hosts and
VDI endpoints.
"""

from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from atp_core.errors import InvalidInput
from atp_site.permissions import has_role, role_required

from . import selectors, services, tasks, vdi
from .forms import HostForm, VdiEndpointForm
from .models import Host, VdiEndpoint, VirtualMachine


def _fetch(request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


@require_GET
def host_list(request):
    return render(
        request,
        "hosts/host_list.html",
        {
            "live_hosts": selectors.live_hosts(),
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
        services.test_host_connection(host)
        if host.reachable:
            messages.info(request, f"Added {host.name}: reachable, libvirt {host.libvirt_version}")
        else:
            messages.error(request, f"Added {host.name}, but it is unreachable: {host.last_error}")
        return redirect("hosts:list")
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
    host = services.test_host_connection(get_object_or_404(Host, pk=host_id))
    payload = {
        "host": host.name,
        "health": host.health,
        "error": host.last_error,
        "libvirt_version": host.libvirt_version,
        "running_domains": host.running_domains,
    }
    if _fetch(request):
        return JsonResponse(payload)
    if host.reachable:
        messages.info(
            request,
            f"{host.name}: reachable, libvirt {host.libvirt_version}, "
            f"{host.running_domains} running domain(s)",
        )
    else:
        messages.error(request, f"{host.name}: unreachable: {host.last_error}")
    return redirect("hosts:list")


@require_POST
@role_required("operator")
def host_sync(request, host_id: int):
    result = services.sync_host(get_object_or_404(Host, pk=host_id))
    if _fetch(request):
        return JsonResponse(result)
    if result["ok"]:
        messages.info(
            request,
            f"{result['host']}: {result['vms']} VM(s) synced, {result['thumbnails']} thumbnail(s)",
        )
    else:
        messages.error(request, f"{result['host']}: sync failed: {result['error']}")
    return redirect("hosts:list")


@require_GET
def vm_thumbnail(request, vm_id: int):
    vm = get_object_or_404(VirtualMachine, pk=vm_id)
    if not vm.thumbnail:
        raise Http404("no thumbnail yet")
    response = FileResponse(vm.thumbnail.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=10"
    return response


@require_GET
def vm_list(request):
    query, tag = request.GET.get("q", "").strip(), request.GET.get("tag", "").strip()
    return render(
        request,
        "hosts/vm_list.html",
        {"vms": selectors.vm_list(query, tag), "query": query, "tag": tag},
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
        vdi.test_login(endpoint)
        if endpoint.reachable:
            messages.info(request, f"Added {endpoint.name}: login works")
        else:
            messages.error(
                request, f"Added {endpoint.name}, but login failed: {endpoint.last_error}"
            )
        return redirect("hosts:vdi_detail", endpoint.pk)
    return render(request, "hosts/vdi_form.html", {"form": form, "endpoint": None})


@role_required("admin")
def vdi_edit(request, endpoint_id: int):
    endpoint = get_object_or_404(VdiEndpoint, pk=endpoint_id)
    form = VdiEndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        form.save()
        # test again at once: a fixed password must not stay "down" with the old error
        vdi.test_login(endpoint)
        if endpoint.reachable:
            messages.info(request, f"Saved {endpoint.name}: login works")
        else:
            messages.error(
                request, f"Saved {endpoint.name}, but login failed: {endpoint.last_error}"
            )
        return redirect("hosts:vdi_detail", endpoint.pk)
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
    try:
        if action == "test":
            vdi.test_login(endpoint)
            result = {"ok": bool(endpoint.reachable), "error": endpoint.last_error}
            text = "login works" if endpoint.reachable else f"login failed: {endpoint.last_error}"
        elif action == "sync":
            result = vdi.sync_endpoint(endpoint)
            if result["ok"]:
                text = f"{result['vms']} VM(s) synced"
            else:
                text = f"sync failed: {result['error']}"
        elif action == "verify":
            result = vdi.verify_endpoint(endpoint)
            if not result["ok"]:
                text = f"verify failed: {result['error']}"
            elif result["consistent"]:
                text = f"consistent: {result['total']} VM(s) agree"
            else:
                text = f"{result['inconsistent']} inconsistency(ies) of {result['total']} VM(s)"
        else:
            raise Http404("unknown action")
    except InvalidInput as exc:
        result, text = {"ok": False, "error": str(exc)}, str(exc)
    if _fetch(request):
        return JsonResponse(result)
    (messages.info if result.get("ok") else messages.error)(request, f"{endpoint.name}: {text}")
    return redirect("hosts:vdi_detail", endpoint.pk)
