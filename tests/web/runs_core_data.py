"""Rows for the runs-core tests: a host with VMs, a runnable scenario revision, engine events."""

from __future__ import annotations

import hashlib
import time

from hosts.models import Host, VirtualMachine
from scenarios.models import Scenario, ScenarioRevision

TEXT = """version: 1
name: {name}
targets: [{{vm: demo-1, host: local}}]
steps:
  - type: guest_ping
  - type: exec_command
    name: echo hi
    command: echo hi
"""

PLAN = [
    {"id": "1", "name": "guest ping", "type": "guest_ping", "depth": 0, "phase": "main"},
    {"id": "2", "name": "echo hi", "type": "exec_command", "depth": 0, "phase": "main"},
]


def inventory(uri: str = "qemu:///system"):
    """Host ``local`` with VMs demo-1 (tag demo), demo-2 (tags demo, win) and other-1."""
    host, _ = Host.objects.get_or_create(name="local", defaults={"uri": uri})
    vms = [
        VirtualMachine.objects.get_or_create(host=host, name=n, defaults={"tags": tags})[0]
        for n, tags in (("demo-1", ["demo"]), ("demo-2", ["demo", "win"]), ("other-1", []))
    ]
    return host, vms


def revision(name: str = "demo", text: str | None = None, targets=None):
    text = text or TEXT.format(name=name)
    scenario, _ = Scenario.objects.get_or_create(name=name)
    number = scenario.revisions.count() + 1
    parsed = {"name": name, "targets": targets if targets is not None else [], "steps": []}
    rev = ScenarioRevision.objects.create(
        scenario=scenario,
        number=number,
        content=text,
        content_sha256=hashlib.sha256(text.encode()).hexdigest(),
        parsed=parsed,
    )
    scenario.current_revision = rev
    scenario.save()
    return rev


def event(kind: str, /, target="local/demo-1", step_id=None, **data):
    """An engine Event (atp_core.orchestrator.events.Event); ``data`` may hold ``type``."""
    from atp_core.orchestrator.events import Event

    return Event(kind, 0, time.time(), target, step_id, data)
