"""Bad input gets a clear 4xx, never a server error: every URL of the site, as an admin (who
may reach every view), with junk query strings, junk form posts and broken JSON bodies.

The routes come from the URLconf at test time (like test_url_permissions); every path
parameter is the real primary key or slug of a row the test created (a host, VMs, a VDI
endpoint, a scenario with a revision, a run with its target, a notification, a user), so the
views get past their lookups and meet the junk itself.
"""

from __future__ import annotations

import io

import pytest

from runs.services import launch_run
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision
from tests.web.test_url_permissions import all_paths

pytestmark = pytest.mark.django_db(transaction=True)

# Leaving the session or Django's own admin is not what this test is about.
SKIP_PREFIXES = ("/admin/", "/accounts/logout/")
JUNK_QUERY = {
    "page": "-3",
    "after": "abc",
    "limit": "10**9",
    "state": "<script>",
    "result": "none",
    "date": "2026-13-45",
    "date_from": "yesterday",
    "host": "no-such-host",
    "q": "%" * 300,
    "a": "x",
    "b": "-1",
}
JUNK_FORM = {
    "name": "Not A Slug ../..",
    "uri": "gopher://",
    "content": "version: 1\nsteps: [\n",
    "vm": ["x", "-1"],
    "variables": "a=1\n= =\n{",
    "areas": "[[1,2]]",
    "threshold": "NaN",
    "slots": "-1",
    "url": "not a url",
    "password": "",
    "interval": "0",
    "crontab": "* * * *",
}


@pytest.fixture
def rows(monkeypatch, redis_url, settings, tmp_path):
    """Rows whose ids are far from 1 (earlier rows are deleted), so a route that still
    reached id 1 would answer 404 and be noticed by the hit count."""
    from django.core.files.base import ContentFile
    from PIL import Image

    from hosts.models import Host, VdiEndpoint
    from scenarios.models import ReferenceImage
    from schedules.models import Notification, NotificationHook, Schedule

    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    for i in range(3):  # push the real ids away from 1
        Host.objects.create(name=f"gone-{i}", uri="test:///default").delete()
    host, vms = inventory("test:///default")
    endpoint = VdiEndpoint(name="vdi-junk", url="http://127.0.0.1:9/", username="u")
    endpoint.set_password("p")
    endpoint.save()
    rev = revision("demo")
    run = launch_run(rev, [{"vm": "demo-1", "host": "local"}], {}, None)
    hook = NotificationHook.objects.create(name="junk-hook", emails="a@example.com")
    schedule = Schedule.objects.create(
        name="junk-schedule", scenario=rev.scenario, every_seconds=3600
    )
    delivery = Notification.objects.create(run=run, channel="email", target="a@example.com")
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), "navy").save(buf, "PNG")
    ref = ReferenceImage(name="junk-ref", width=32, height=24, areas=[])
    ref.image.save("junk-ref.png", ContentFile(buf.getvalue()), save=False)
    ref.save()
    return {
        "schedules": schedule.pk,
        "api/schedules": "junk-schedule",
        "api/notification-deliveries": delivery.pk,
        "references": "junk-ref",
        "api/references": "junk-ref",
        "hosts": host.pk,
        "vdi": endpoint.pk,
        "vms": vms[0].pk,
        "runs": run.pk,
        "targets": run.run_targets.first().pk,
        "scenarios": "demo",
        "revisions": rev.number,
        "hooks": hook.pk,
        "api/hosts": "local",
        "api/vdi-endpoints": "vdi-junk",
        "api/scenarios": "demo",
        "api/runs": run.pk,
        "api/vms": vms[0].pk,
        "api/notifications": "junk-hook",
        "api/users": "root",
        "vm_name": "demo-1",
    }


def _real(path: str, rows: dict) -> str:
    """``path`` with each sample ``1`` replaced by the real key of the row it names."""
    parts = path.strip("/").split("/")
    out = []
    for i, part in enumerate(parts):
        if part != "1":
            out.append(part)
            continue
        before = parts[i - 1] if i else ""
        api = f"api/{before}" if i >= 2 and parts[0] == "api" and i == 2 else ""
        if before == "vms" and parts[0] == "hosts":
            value = rows["vm_name"]
        elif api in rows:
            value = rows[api]
        elif before in rows:
            value = rows[before]
        elif before == "users" and parts[0] == "accounts":
            value = rows.get("user_id", 1)
        else:
            value = part
        out.append(str(value))
    text = "/" + "/".join(out)
    return text + "/" if path.endswith("/") and not text.endswith("/") else text


def _paths(rows: dict):
    """Every route with real keys; deleting ones last, so the rows stay for the others."""
    paths = [_real(p, rows) for p in all_paths() if not p.startswith(SKIP_PREFIXES)]
    return sorted(paths, key=lambda p: "delete" in p)


def test_no_route_answers_junk_with_a_server_error(client, rows):
    root = make_user("root", "admin")
    rows["user_id"] = root.pk
    client.force_login(root)
    failures = []
    found = 0
    paths = _paths(rows)
    for path in paths:
        if "delete" in path:
            continue
        try:
            if client.get(path).status_code != 404:
                found += 1
        except Exception:  # noqa: BLE001 - reported with the junk requests below
            found += 1
        attempts = [
            ("GET", lambda p=path: client.get(p, JUNK_QUERY)),
            ("GET nul", lambda p=path: client.get(p, {"host": "\x00"})),
            ("POST form", lambda p=path: client.post(p, JUNK_FORM)),
            (
                "POST json",
                lambda p=path: client.post(p, "{not json", content_type="application/json"),
            ),
            (
                "POST json list",
                lambda p=path: client.post(p, "[1, 2]", content_type="application/json"),
            ),
        ]
        for what, send in attempts:
            try:
                response = send()
            except Exception as exc:  # the view raised: a 500 in production
                failures.append(f"{what} {path}: {type(exc).__name__}: {exc}")
                continue
            if response.streaming:  # a file (image, export): its bytes are no error page
                if response.status_code >= 500:
                    failures.append(f"{what} {path}: HTTP {response.status_code}")
                continue
            if (
                response.status_code == 503
                and response.content
                and b"<html" not in response.content
            ):
                continue  # deliberate: a remote part (the VM's screen) cannot answer; says why
            if response.status_code >= 500:
                failures.append(f"{what} {path}: HTTP {response.status_code}")
            elif b"Traceback" in response.content:
                failures.append(f"{what} {path}: a traceback in the page")
            elif what == "GET nul" and response.status_code != 400:
                failures.append(
                    f"{what} {path}: a NUL in ?host= not refused ({response.status_code})"
                )
    assert not failures, "\n".join(failures)
    # the real keys lead to real rows: nearly every route finds what it names
    assert found >= len(paths) * 0.8, f"{found} of {len(paths)} routes found their row"
