"""A capacity run launched through the API runs on the host's real Celery worker: two desks,
transient copies of a desktop-guest template VM, booted one after the other on the local
libvirtd, each typing 4 measured keys at its login screen per step over SPICE. Each step is
stored as it is measured; the run ends with a verdict, its reason and the curve on its page and
in its JSON, and leaves no desk behind (the template stays as it was)."""

from __future__ import annotations

import contextlib
import os
import re
import time

import libvirt
import pytest
from django.test import Client

from guest.domain import define_desktop
from hosts.models import Host, VirtualMachine
from runs.models import CapacityRun
from tests.fixtures.web import make_user
from tests.prereq import require
from tests.vm_pool import desktop_built

pytestmark = pytest.mark.rig

PREFIX = os.environ.get("ATP_RIG_PREFIX", "atp-test-")
KEYS = 4
DEADLINE = 900  # two desktop boots under TCG on a crowded machine, and two steps


@pytest.fixture
def template(libvirt_uri):
    require(desktop_built(), "the desktop guest (run guest/build-desktop.sh)")
    conn = libvirt.open(libvirt_uri)
    name = f"{PREFIX}captpl"
    define_desktop(conn, name, ticket="unused")
    yield name
    for dom in conn.listAllDomains():
        if dom.name().startswith(f"{name}-cap"):
            with contextlib.suppress(libvirt.libvirtError):
                dom.destroy()
    with contextlib.suppress(libvirt.libvirtError):
        conn.lookupByName(name).undefine()
    conn.close()


def test_capacity_run_on_the_worker(live_server, celery_worker_process, template, libvirt_uri):
    host = Host.objects.create(name="local", uri=libvirt_uri)
    VirtualMachine.objects.create(host=host, name=template)
    operator = make_user("olga", "operator")
    client = Client()
    client.force_login(operator)
    response = client.post(
        "/api/capacity/",
        {"host": "local", "template": template, "max_desks": 2, "keys": KEYS},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]

    conn = libvirt.open(libvirt_uri)
    seen_desks: set[str] = set()
    deadline = time.monotonic() + DEADLINE
    run = CapacityRun.objects.get(pk=run_id)
    while run.is_active and time.monotonic() < deadline:
        seen_desks |= {d.name() for d in conn.listAllDomains() if d.name().startswith(template)}
        time.sleep(2)
        run.refresh_from_db()
    assert not run.is_active, f"still {run.state} after {DEADLINE} s: {run.steps}"
    print(run.verdict, run.reason, run.steps)
    assert run.worker.startswith("test-") and run.started < run.finished
    assert "did not start" not in run.reason and "failed" not in run.reason, run.reason
    assert run.result == "passed", run.reason
    assert [s["desks"] for s in run.steps] == [1, 2], run.steps
    one, two = run.steps
    assert (one["inputs"], two["inputs"]) == (KEYS, 2 * KEYS), "every key measured"
    assert 0 < one["p50"] <= one["p95"] and 0 < two["p50"] <= two["p95"], run.steps
    assert one["ratio"] == 1.0 and run.baseline_p95 == one["p95"]
    if two["p95"] > one["p95"] * 1.15:
        assert run.capacity == 1 and "above the baseline" in run.reason, run.reason
    else:
        assert run.capacity == 2 and run.at_least, run.verdict
    assert run.verdict.startswith(f"capacity: {'at least ' * run.at_least}{run.capacity} desks")
    assert f"on host local ({run.reason})" in run.verdict

    assert f"{template}-cap{run_id}-1" in seen_desks, seen_desks
    left = [d.name() for d in conn.listAllDomains() if d.name().startswith(f"{template}-cap")]
    assert left == [], "every desk destroyed"
    assert not conn.lookupByName(template).isActive(), "the template is never started"
    conn.close()

    page = client.get(f"/capacity/{run_id}/").content.decode()
    assert run.verdict in page.replace("&#x27;", "'")
    points = re.findall(r'<circle class="curve-point[^"]*" data-desks="(\d)"', page)
    assert points == ["1", "2"], "the curve draws both steps"
    data = client.get(f"/api/capacity/{run_id}/").json()
    assert data["verdict"] == run.verdict and len(data["steps"]) == 2
