"""Bad input gets a clear 4xx, never a server error: every URL of the site, as an admin (who
may reach every view), with junk query strings, junk form posts and broken JSON bodies.

The routes come from the URLconf at test time (like test_url_permissions), with ``1`` for
every id, and rows with id 1 exist (a host, VMs, a scenario with a revision, a run), so the
views get past their lookups and meet the junk itself.
"""

from __future__ import annotations

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
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    run = launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)
    return run


def _paths():
    """Every route; deleting ones last, so the rows stay for the others."""
    paths = [p for p in all_paths() if not p.startswith(SKIP_PREFIXES)]
    return sorted(paths, key=lambda p: "delete" in p)


def test_no_route_answers_junk_with_a_server_error(client, rows):
    client.force_login(make_user("root", "admin"))
    failures = []
    for path in _paths():
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
