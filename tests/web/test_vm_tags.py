"""VM (host, endpoint) tags are a list of short non-empty strings everywhere and match exactly;
rows stored before the check are normalised by a data migration."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from atp_site.tags import filter_tagged, normalise_tags
from hosts.forms import HostForm
from hosts.models import Host, VirtualMachine
from runs.services import resolve_targets
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture
def vm():
    host, vm = data.host_and_vm("local", "desk-1")
    vm.tags = ["prod-desktops"]
    vm.save()
    return vm


@pytest.mark.parametrize(
    "tags", [[1, "a"], "prod-desktops", [""], ["x" * 65], [["a"]], [{"a": 1}], None, {"a": 1}]
)
def test_api_refuses_tags_that_are_not_short_strings(client, vm, tags):
    client.force_login(make_user("otto", "operator"))
    response = client.patch(f"/api/vms/{vm.pk}/", {"tags": tags}, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "tags" in response.json()
    vm.refresh_from_db()
    assert vm.tags == ["prod-desktops"]


def test_tags_match_exactly_not_by_substring_or_case(client, vm):
    other = VirtualMachine.objects.create(host=vm.host, name="desk-2", tags=["PROD-DESKTOPS"])
    client.force_login(make_user("vera", "viewer"))
    names = lambda tag: [r["name"] for r in client.get(f"/api/vms/?tag={tag}").json()["results"]]  # noqa: E731
    assert names("prod-desktops") == ["desk-1"]
    assert names("PROD-DESKTOPS") == ["desk-2"]
    assert names("prod") == [] and names("desktops") == [] and names('"prod-desktops"') == []
    page = client.get("/vms/?tag=prod").content.decode()
    assert "desk-1" not in page and "desk-2" not in page
    assert other.pk in filter_tagged(VirtualMachine.objects.all(), "PROD-DESKTOPS").values_list(
        "pk", flat=True
    )


def test_a_tag_target_runs_only_on_vms_with_that_exact_tag(vm):
    # a row stored before the check with text instead of a list: "prod" is a substring of it
    VirtualMachine.objects.create(host=vm.host, name="desk-3")
    VirtualMachine.objects.filter(name="desk-3").update(tags="prod")
    VirtualMachine.objects.create(host=vm.host, name="desk-4", tags=["prod"])
    assert [t["vm_name"] for t in resolve_targets([{"tag": "prod"}])] == ["desk-4"]
    assert [t["vm_name"] for t in resolve_targets([{"tag": "prod-desktops"}])] == ["desk-1"]


def test_model_validation_and_forms_refuse_bad_tags(vm):
    vm.tags = [1, "a"]
    with pytest.raises(ValidationError, match="tag 1 is a int"):
        vm.full_clean()
    form = HostForm(
        data={"name": "h2", "uri": "test:///default", "slots": 1, "tags": "a, " + "b" * 65}
    )
    assert not form.is_valid() and "at most 64" in form.errors["tags"][0]
    form = HostForm(data={"name": "h2", "uri": "test:///default", "slots": 1, "tags": "a, b,, a"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tags"] == ["a", "b"]


def test_editor_pages_render_with_rows_stored_before_the_check(client, vm):
    VirtualMachine.objects.filter(pk=vm.pk).update(tags=[1, "a", None, {"x": 1}])
    Host.objects.filter(pk=vm.host.pk).update(tags="lab, prod")
    sc, _ = data.scenario("demo")
    client.force_login(make_user("otto", "operator"))
    for path in (f"/scenarios/{sc.name}/", "/vms/", "/hosts/", "/scenarios/new"):
        assert client.get(path).status_code == 200, path


def test_the_data_migration_normalises_stored_rows(vm):
    VirtualMachine.objects.filter(pk=vm.pk).update(tags=[1, " a ", "", None, {"x": 1}, "a"])
    Host.objects.filter(pk=vm.host.pk).update(tags="lab, prod,,")
    migration = importlib.import_module("hosts.migrations.0004_tags_are_short_strings")
    migration.normalise_stored_tags(apps, None)
    vm.refresh_from_db()
    vm.host.refresh_from_db()
    assert vm.tags == ["1", "a"]
    assert vm.host.tags == ["lab", "prod"]
    assert normalise_tags({"a": 1}) == [] and normalise_tags(["x" * 99]) == ["x" * 64]
    assert normalise_tags(list(range(80))) == [str(i) for i in range(50)]
