"""Launching and cancelling capacity runs (``runs.models.CapacityRun``).

``launch_capacity`` checks what is asked (a known, enabled host; a template VM the inventory
knows on it that can be copied: ``template_problem``; bounded desks, keys and threshold:
``capacity.check_capacity_inputs``), stores the
queued run and, once the transaction commits, sends ``runs.tasks.execute_capacity`` to the
host's queue (``host.<name>``), where the host's worker runs it.
"""

from __future__ import annotations

import logging

from django.db import transaction

from atp_core.errors import InvalidInput
from atp_core.orchestrator.capacity import check_capacity_inputs
from atp_core.status import Result, RunState
from hosts.models import Host, VirtualMachine

from . import capacity_lifecycle
from .models import CapacityRun

log = logging.getLogger(__name__)

TEMPLATE_NEEDS = "a desktop guest: SPICE display, read-only disks"


def template_problem(vm: VirtualMachine) -> str:
    """Why ``vm`` cannot be a capacity run's template, from what the last host sync saw ('' when
    it can, or when no sync has said yet: the worker checks it then). Each desk is a copy of the
    template typed at over SPICE, so it needs a SPICE display and no writable disk."""
    if vm.disks_read_only is None:
        return ""
    if vm.display != "spice":
        return f"it has {_display_name(vm)}; desks are typed at over SPICE"
    if not vm.disks_read_only:
        return "a disk is writable; every desk would write the same disk"
    return ""


def _display_name(vm: VirtualMachine) -> str:
    return f"a {vm.display.upper()} display" if vm.display else "no display"


def _short_problem(vm: VirtualMachine) -> str:
    if vm.display != "spice":
        return _display_name(vm).removeprefix("a ")
    return "writable disk"


def template_choices(hosts) -> list[dict]:
    """The VMs of ``hosts`` a capacity run could copy, suitable ones first: per VM its host, name,
    ``problem`` (``template_problem``), ``short`` (the problem in two words) and ``checked`` (a
    sync has said whether it fits)."""
    vms = VirtualMachine.objects.filter(host__in=hosts).select_related("host")
    rows = [
        {
            "host": vm.host.name,
            "vm": vm.name,
            "problem": template_problem(vm),
            "short": _short_problem(vm) if template_problem(vm) else "",
            "checked": vm.disks_read_only is not None,
        }
        for vm in vms.order_by("host__name", "name")[:500]
    ]
    rank = {(True, False): 0, (False, False): 1, (True, True): 2}
    return sorted(rows, key=lambda r: rank[(r["checked"], bool(r["problem"]))])


def launch_capacity(
    *, host: str, template: str, max_desks, keys, threshold=0.15, user=None
) -> CapacityRun:
    """A queued capacity run of desks copied from ``template`` on ``host`` (names); its task is
    sent after the commit. ``InvalidInput`` names what is wrong and what is allowed."""
    from atp_site.celery import queue_for_host

    desks, count, limit = check_capacity_inputs(max_desks, keys, threshold)
    target = Host.objects.filter(name=str(host or "")).first()
    if target is None:
        known = ", ".join(Host.objects.values_list("name", flat=True)[:20]) or "none"
        raise InvalidInput(f"host: no host named {host!r} (known: {known})")
    if not target.enabled:
        raise InvalidInput(f"host: {target.name} is disabled")
    template = str(template or "").strip()
    if not template:
        raise InvalidInput("template: give the VM each desk is a copy of")
    vm = VirtualMachine.objects.filter(host=target, name=template).first()
    if vm is None:
        raise InvalidInput(
            f"template: no VM {template!r} on host {target.name} (sync the host to list its VMs)"
        )
    problem = template_problem(vm)
    if problem:
        fitting = [
            r["vm"]
            for r in template_choices([target])
            if r["checked"] and not r["problem"] and r["host"] == target.name
        ]
        hint = f" such as {', '.join(fitting[:3])}" if fitting else " (none on this host yet)"
        raise InvalidInput(
            f"template: {template} cannot be copied for a capacity run: {problem}; "
            f"choose {TEMPLATE_NEEDS}{hint}"
        )
    with transaction.atomic():
        run = CapacityRun.objects.create(
            host=target,
            host_name=target.name,
            host_uri=target.uri,
            template=template,
            max_desks=desks,
            keys=count,
            threshold=limit,
            launched_by=user if getattr(user, "is_authenticated", False) else None,
            queue=queue_for_host(target.name),
        )
        transaction.on_commit(lambda: send_capacity(run))
    return run


def send_capacity(run: CapacityRun) -> None:
    """Send the capacity run's task; a broker that refuses it ends the run ``error``."""
    from .tasks import dispatch_capacity

    try:
        dispatch_capacity(run)
    except Exception as exc:
        log.exception("capacity run %s: could not be queued", run.pk)
        capacity_lifecycle.finish(run.pk, Result.ERROR, f"could not be queued: {exc}")


def request_cancel(run: CapacityRun) -> CapacityRun:
    """Ask the capacity run to stop: a queued one ends at once, a running one before its next
    desk starts (the desks measuring now finish their step)."""
    CapacityRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    if run.state == RunState.QUEUED:
        capacity_lifecycle.finish(run.pk, Result.CANCELLED, "cancelled before it started")
    run.refresh_from_db()
    return run
