"""Import YAML, JSON and the legacy dialects (through the engine's loader); export YAML/JSON."""

from __future__ import annotations

import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from scenarios.models import Scenario
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db

YAML_TEXT = "version: 1\nname: imported-one\ntags: [a]\nsteps:\n  - type: wait\n    duration: 1s\n"
LEGACY_TYPED = """\
name: legacy-typed
steps:
  - type: virtualization_action
    action: connect
    domain_id: "vm-001"
  - type: virtualization_action
    action: send_keyboard
    text: "Hello World"
  - type: wait
    duration: 2s
"""


@pytest.fixture
def operator_client(client):
    client.force_login(make_user("olga", "operator"))
    return client


def _upload(client, name: str, text: str):
    return client.post(
        "/scenarios/import", {"file": SimpleUploadedFile(name, text.encode())}, follow=True
    )


def test_import_yaml_then_reimport_makes_a_revision(operator_client):
    _upload(operator_client, "one.yaml", YAML_TEXT)
    scenario = Scenario.objects.get(name="imported-one")
    assert scenario.current_revision.number == 1 and scenario.tags == ["a"]
    page = _upload(operator_client, "one.yaml", YAML_TEXT.replace("1s", "2s"))
    assert "new revision" in page.content.decode()
    scenario.refresh_from_db()
    assert scenario.current_revision.number == 2
    assert scenario.current_revision.message == "imported one.yaml"


def test_import_json_and_export_both_formats(operator_client):
    data = yaml.safe_load(YAML_TEXT) | {"name": "json-one"}
    _upload(operator_client, "j.json", json.dumps(data))
    scenario = Scenario.objects.get(name="json-one")
    assert scenario.current_revision.format == "json"
    exported_yaml = operator_client.get("/scenarios/json-one/export?format=yaml")
    assert exported_yaml["Content-Disposition"].endswith('json-one-r1.yaml"')
    assert yaml.safe_load(exported_yaml.content)["name"] == "json-one"
    exported_json = operator_client.get("/scenarios/json-one/export?format=json")
    assert json.loads(exported_json.content)["name"] == "json-one"
    bad = operator_client.get("/scenarios/json-one/export?format=xml")
    assert bad.status_code == 400 and b"allowed yaml, json" in bad.content


def test_legacy_dialect_is_accepted(operator_client):
    _upload(operator_client, "legacy.yaml", LEGACY_TYPED)
    scenario = Scenario.objects.get(name="legacy-typed")
    assert scenario.current_revision
    assert scenario.current_revision.content == LEGACY_TYPED  # stored as written


def test_invalid_import_is_refused_with_location(operator_client):
    html = _upload(operator_client, "bad.yaml", "name: x\nsteps:\n  - type: nope\n").content
    assert b"bad.yaml: scenario does not validate: line 3" in html
    assert not Scenario.objects.exists()


def test_non_utf8_upload_is_a_clear_error(operator_client):
    response = operator_client.post(
        "/scenarios/import",
        {"file": SimpleUploadedFile("x.yaml", b"\xff\xfe\x00bad")},
        follow=True,
    )
    assert b"not UTF-8" in response.content
