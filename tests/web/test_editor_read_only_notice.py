"""A viewer sees a "read-only" notice in the scenario and reference editors and no completion
or drag hints; operators see the hints and no notice. Gone VMs are not offered as targets."""

import pytest

from hosts.models import Host, VirtualMachine
from scenarios.models import ReferenceImage
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


def test_viewer_sees_read_only_and_no_hints(client):
    data.scenario("demo")
    ReferenceImage.objects.create(name="login-box", width=10, height=10, areas=[])
    client.force_login(make_user("vera", "viewer"))
    editor = client.get("/scenarios/demo/").content.decode()
    assert 'id="readonly-notice"' in editor and "Read-only" in editor
    assert "Ctrl-Space" not in editor
    ref = client.get("/references/login-box/").content.decode()
    assert 'id="readonly-notice"' in ref and "Drag on the screenshot" not in ref


def test_operator_sees_hints_and_no_notice(client):
    data.scenario("demo")
    client.force_login(make_user("olga", "operator"))
    editor = client.get("/scenarios/demo/").content.decode()
    assert 'id="readonly-notice"' not in editor and "Ctrl-Space completes" in editor


def test_gone_vms_are_not_offered_as_run_targets(client):
    data.scenario("demo")
    host = Host.objects.create(name="local", uri="test:///default")
    here = VirtualMachine.objects.create(host=host, name="vm-here", state="running")
    gone = VirtualMachine.objects.create(host=host, name="vm-gone", state="gone")
    client.force_login(make_user("olga", "operator"))
    run_form = client.get("/scenarios/demo/").content.decode().split('id="run-form"')[1]
    assert f'value="{here.pk}"' in run_form and "vm-here" in run_form
    assert f'value="{gone.pk}"' not in run_form and "vm-gone" not in run_form
