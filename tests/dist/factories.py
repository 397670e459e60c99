"""Rows for the distributed-execution tests: hosts, VMs, scenarios and runs in given states."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.utils import timezone

SCENARIO_TEXT = """\
version: 1
name: {name}
timeout: {timeout}
steps:
  - name: ping
    guest_ping: {{}}
"""


def host(name: str, slots: int = 4, uri: str = "qemu:///system"):
    from hosts.models import Host

    return Host.objects.create(name=name, uri=uri, slots=slots)


def vm(host_row, name: str):
    from hosts.models import VirtualMachine

    return VirtualMachine.objects.create(host=host_row, name=name, state="running")


def revision(name: str = "dist-probe", timeout: float = 60, parsed: dict | None = None):
    """A runnable revision stored directly (no engine validation: these tests do not run it)."""
    from scenarios.models import Scenario, ScenarioRevision

    scenario = Scenario.objects.create(name=name)
    text = SCENARIO_TEXT.format(name=name, timeout=timeout)
    rev = ScenarioRevision.objects.create(
        scenario=scenario,
        number=1,
        content=text,
        content_sha256=hashlib.sha256(text.encode()).hexdigest(),
        parsed=parsed if parsed is not None else {"name": name, "timeout": timeout},
    )
    scenario.current_revision = rev
    scenario.save()
    return rev


def run(rev, vms: list, *, state: str = "queued", age: float = 0, heartbeat_age=None, **fields):
    """A Run of ``rev`` on ``vms`` in ``state``; started/created ``age`` seconds ago; heartbeat
    ``heartbeat_age`` seconds ago (None: no heartbeat)."""
    from runs.models import Run, RunTarget

    now = timezone.now()
    first_host = vms[0].host.name if vms else "local"
    row = Run.objects.create(
        scenario=rev.scenario,
        revision=rev,
        source=rev.content,
        name=rev.scenario.name,
        targets=[{"vm": v.name, "host": v.host.name} for v in vms],
        state=state,
        queue=f"host.{first_host}",
        started=now - timedelta(seconds=age) if state != "queued" else None,
        heartbeat=now - timedelta(seconds=heartbeat_age) if heartbeat_age is not None else None,
        **fields,
    )
    if age:
        Run.objects.filter(pk=row.pk).update(created=now - timedelta(seconds=age))
        row.refresh_from_db()
    for i, v in enumerate(vms):
        RunTarget.objects.create(
            run=row,
            ordinal=i,
            name=f"{v.host.name}/{v.name}",
            vm=v,
            host=v.host,
            vm_name=v.name,
            host_uri=v.host.uri,
            state=state,
        )
    return row
