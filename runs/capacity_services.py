"""Launching and cancelling capacity runs (``runs.models.CapacityRun``).

``launch_capacity`` checks what is asked (a known, enabled host; a template VM the inventory
knows on it; bounded desks, keys and threshold: ``capacity.check_capacity_inputs``), stores the
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
    if not VirtualMachine.objects.filter(host=target, name=template).exists():
        raise InvalidInput(
            f"template: no VM {template!r} on host {target.name} (sync the host to list its VMs)"
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
