"""Every writable API field refuses a value outside its declared type with a 400 that names the
field, never a server error (issue 11 item 2: ``revision={}`` on a scenario launch and
``tags=null`` on a VDI endpoint answered 500).

Each write operation is sent a valid body with one field replaced by a value of every other
JSON type in turn.
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)

WRONG = {
    "null": None,
    "object": {},
    "list": [],
    "list-of-objects": [{}],
    "string": "x",
    "float": 1.5,
    "bool": True,
    "int": 7,
    "big-int": 10**30,  # outside every declared integer range
}

# (method, path, valid body, {field: the JSON types it accepts})
OPERATIONS = [
    (
        "post",
        "/api/scenarios/demo/run/",
        {"revision": 1, "targets": [{"vm": "demo-1", "host": "local"}], "variables": {}},
        {"revision": {"int"}, "targets": {"list", "list-of-objects"}, "variables": {"object"}},
    ),
    (
        "post",
        "/api/runs/",
        {"scenario": "demo", "revision": 1, "targets": [{"vm": "demo-1", "host": "local"}]},
        {"revision": {"int"}, "targets": {"list", "list-of-objects"}, "variables": {"object"}},
    ),
    (
        "post",
        "/api/vdi-endpoints/",
        {"name": "ep", "url": "http://127.0.0.1:9/", "username": "u", "password": "p"},
        {
            "tags": {"list"},
            "enabled": {"bool"},
            "verify_tls": {"bool"},
            "name": {"string"},
            "username": {"string"},
            "password": {"string"},
            "name_prefix": {"string"},
            "libvirt_host": {"null"},
        },
    ),
    (
        "post",
        "/api/hosts/",
        {"name": "h2", "uri": "test:///default"},
        {
            "tags": {"list"},
            "slots": {"int"},
            "enabled": {"bool"},
            "name": {"string"},
            "uri": {"string"},
            "description": {"string"},
            "credentials_ref": {"string"},
        },
    ),
    ("patch", "/api/vms/{vm}/", {"tags": ["a"]}, {"tags": {"list"}}),
    (
        "post",
        "/api/scenarios/",
        {"content": "version: 1\nname: x\nsteps: []\n"},
        {"content": {"string"}, "name": {"string"}},
    ),
    (
        "post",
        "/api/scenarios/validate/",
        {"content": "version: 1\nsteps: []\n"},
        {"content": {"string"}, "message": {"string"}},
    ),
]


@pytest.fixture
def api(client, monkeypatch, redis_url, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    _, vms = inventory()
    revision()
    client.force_login(make_user("root", "admin"))
    return client, vms[0].pk


def test_wrong_types_are_a_400_naming_the_field(api):
    client, vm_pk = api
    failures = []
    serial = 0
    for method, path, body, fields in OPERATIONS:
        path = path.format(vm=vm_pk)
        for field, accepted in fields.items():
            for label, value in WRONG.items():
                if label in accepted:
                    continue
                serial += 1
                sent = {**body, field: value}
                if "name" in body and field != "name":
                    sent["name"] = f"n{serial}"  # a new row each time: no clash with the last
                where = f"{method.upper()} {path} {field}={value!r}"
                try:
                    response = getattr(client, method)(
                        path, json.dumps(sent), content_type="application/json"
                    )
                except Exception as exc:  # the view raised: a 500 in production
                    failures.append(f"{where}: {type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 400:
                    failures.append(f"{where}: HTTP {response.status_code}")
                    continue
                if field not in response.json():
                    failures.append(f"{where}: 400 without the field: {response.json()}")
    assert not failures, "\n".join(failures)


def test_the_two_reported_500s_are_400s(api):
    client, _ = api
    bad_revision = client.post(
        "/api/scenarios/demo/run/", {"revision": {}}, content_type="application/json"
    )
    assert bad_revision.status_code == 400
    assert "revision" in bad_revision.json()
    null_tags = client.post(
        "/api/vdi-endpoints/",
        {
            "name": "ep",
            "url": "http://127.0.0.1:9/",
            "username": "u",
            "password": "p",
            "tags": None,
        },
        content_type="application/json",
    )
    assert null_tags.status_code == 400
    assert "tags" in null_tags.json()
