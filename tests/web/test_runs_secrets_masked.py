"""A run through the worker's engine runner gets the scenario secrets decrypted and stores
none of their values: events, step output and errors, the reason and the report files hold ***.
(The guest is the unit tests' fake VM; the rest is the real worker path.)"""

from __future__ import annotations

import pytest

import atp_core.orchestrator as orchestrator
from atp_core.status import RunState
from runs.engine_runner import execute
from runs.models import Artifact, Run, RunEvent, StepResult
from runs.services import launch_run
from scenarios.secrets import set_secret
from tests.unit.fake_vm import FakeRig
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)
VALUE = "Vdi-Login-Pa55"
TEXT = """
name: login
steps:
  - {type: send_text, text: "${secret.vdi_password}\\n"}
  - {type: exec_command, command: "echo ${secret.vdi_password}"}
  - type: verify_command
    command: "echo nope"
    expect: {stdout_contains: "${secret.vdi_password}"}
"""


def test_secret_values_are_masked_in_everything_the_run_stores(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    monkeypatch.setattr("runs.event_store.broadcast", lambda run_id, payload: None)
    rig = FakeRig()
    real = orchestrator.run_scenario
    monkeypatch.setattr(
        orchestrator, "run_scenario", lambda *a, **kw: real(*a, session_factory=rig, **kw)
    )
    inventory()
    set_secret("vdi_password", VALUE)
    run = launch_run(revision("login", text=TEXT), [{"vm": "demo-1", "host": "local"}], {}, None)
    Run.objects.filter(pk=run.pk).update(state=RunState.RUNNING)
    assert execute(run.pk, worker="test") == "failed"
    assert rig.vm("demo-1").typed == VALUE + "\n"  # the guest got the real password
    run.refresh_from_db()
    stored = [str(p) for p in RunEvent.objects.filter(run=run).values_list("payload", flat=True)]
    stored += [f"{s.output} {s.error}" for s in StepResult.objects.filter(run=run)]
    stored.append(run.reason)
    for artifact in Artifact.objects.filter(run=run):
        stored.append(artifact.file.read().decode(errors="replace"))
    everything = "\n".join(stored)
    assert VALUE not in everything
    assert "stdout does not contain '***'" in everything
    failed = StepResult.objects.get(run=run, step_id="3")
    assert failed.status == "failed" and "'***'" in failed.error
