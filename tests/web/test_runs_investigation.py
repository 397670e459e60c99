"""The investigation view of a failing run: the last run of its scenario that passed before it
next to this one — revision diff, variables, per target the host, the VM's domain XML (diffed)
and boot id, the worker and its package versions — linked from the failing run's report. The
facts are stored by the real paths: the worker's environment at claim, the VM's domain XML when
the run starts (read from libvirt's test driver here)."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs import lifecycle
from runs.models import Run, RunTarget, WorkerEnvironment
from runs.presenters import page_investigation
from runs.run_facts import record_target_facts, worker_environment_id, worker_facts
from scenarios.models import ScenarioRevision
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db

XML_A = (
    "<domain type='kvm'>\n  <name>demo-1</name>\n  <memory unit='KiB'>1048576</memory>\n</domain>"
)
XML_B = (
    "<domain type='kvm'>\n  <name>demo-1</name>\n  <memory unit='KiB'>524288</memory>\n</domain>"
)


def _env(packages: dict) -> WorkerEnvironment:
    facts = {"python": "3.11.2", "platform": "Linux-6.1", "libvirt": "9.0.0", "packages": packages}
    return WorkerEnvironment.objects.create(
        digest=hashlib.sha256(repr(facts).encode()).hexdigest(), facts=facts
    )


def _second_revision(sc, rev):
    text = rev.content.replace("text: hello", "text: hello world")
    new = ScenarioRevision.objects.create(
        scenario=sc,
        number=2,
        content=text,
        content_sha256=hashlib.sha256(text.encode()).hexdigest(),
    )
    sc.current_revision = new
    sc.save()
    return new


def passed_then_failed(user):
    """Run A passed (revision 1, greeting=Hi, 1 GiB, worker w1); then run B failed (revision 2,
    greeting=Hello, 512 MiB, another boot, worker w2 with a newer opencv)."""
    sc, rev = data.scenario("investigated", user)
    good = data.new_run(sc, rev, user, variables={"greeting": "Hi", "lang": "en"})
    data.play(good)
    Run.objects.filter(pk=good.pk).update(
        worker="w1@rack1", worker_env=_env({"django": "5.2.19", "opencv-python": "4.10.0"})
    )
    RunTarget.objects.filter(run=good).update(domain_xml=XML_A, boot_id="aaaa-1111")
    rev2 = _second_revision(sc, rev)
    bad = data.new_run(sc, rev2, user, variables={"greeting": "Hello", "lang": "en"})
    data.play(bad, statuses=("passed", "failed", "passed"))
    Run.objects.filter(pk=bad.pk).update(
        worker="w2@rack2",
        worker_env=_env({"django": "5.2.19", "opencv-python": "4.11.0", "numpy": "2.1"}),
    )
    RunTarget.objects.filter(run=bad).update(domain_xml=XML_B, boot_id="bbbb-2222")
    return good, bad


def test_the_failing_run_next_to_the_last_passing_one(client):
    user = make_user("vera", "viewer")
    good, bad = passed_then_failed(user)
    view = page_investigation(bad.pk)
    assert view["passed"] == good
    assert "-    text: hello" in view["revision_diff"]
    assert "+    text: hello world" in view["revision_diff"]
    assert [(v["name"], v["a"], v["b"], v["changed"]) for v in view["variables"]] == [
        ("greeting", "Hi", "Hello", True),
        ("lang", "en", "en", False),
    ]
    (pair,) = view["target_pairs"]
    assert pair["same_host"] and pair["same_vm"] and not pair["same_boot"]
    assert "-  <memory unit='KiB'>1048576</memory>" in pair["xml_diff"]
    assert "+  <memory unit='KiB'>524288</memory>" in pair["xml_diff"]
    assert view["package_changes"] == [
        {"name": "numpy", "a": None, "b": "2.1"},
        {"name": "opencv-python", "a": "4.10.0", "b": "4.11.0"},
    ]

    client.force_login(user)
    report = client.get(f"/runs/{bad.pk}/").content.decode()
    assert f'id="investigate-link" href="/runs/{bad.pk}/investigate"' in report
    passed_report = client.get(f"/runs/{good.pk}/").content.decode()
    assert 'id="investigate-link"' not in passed_report, "a passed run has nothing to investigate"
    html = client.get(f"/runs/{bad.pk}/investigate").content.decode()
    assert f'Against <a href="/runs/{good.pk}/">run {good.pk}</a>' in html
    assert "revision 1 → 2" in html and "text: hello world" in html
    assert '<tr data-variable="greeting" class="changed">' in html
    assert "bbbb-2222" in html and "aaaa-1111" in html
    assert "Domain XML changed" in html
    assert (
        '<tr class="inv-worker-name changed"><td>worker</td><td>w1@rack1</td><td>w2@rack2</td>'
        in (html)
    )
    assert '<tr data-package="opencv-python" class="changed">' in html
    assert "<td>not installed</td><td>2.1</td>" in html
    assert "type hello" in html and "text not seen" in html, "what failed"


def test_no_earlier_passing_run_and_missing_facts(client):
    user = make_user("vera", "viewer")
    sc, rev = data.scenario("never-passed", user)
    bad = data.new_run(sc, rev, user)
    data.play(bad, statuses=("failed", "passed", "passed"))
    later = data.new_run(sc, rev, user)
    data.play(later)  # passed after the failure: not a baseline of it
    client.force_login(user)
    response = client.get(f"/runs/{bad.pk}/investigate")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No run of never-passed passed before this one" in html
    assert "No domain XML stored for this target" in html
    assert "worker environment was not stored" in html
    assert client.get("/runs/999999/investigate").status_code == 404


def test_query_count_does_not_grow_with_targets(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    good, bad = passed_then_failed(user)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/runs/{bad.pk}/investigate").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(2, 6):
        for run in (good, bad):
            host, vm = data.host_and_vm("local", f"demo-{i}")
            RunTarget.objects.create(
                run=run, name=f"local/demo-{i}", host=host, vm=vm, vm_name=vm.name, ordinal=i
            )
    assert count() == before


def test_the_worker_environment_is_stored_at_claim(monkeypatch):
    from runs import engine_runner
    from runs.tasks import execute_run

    sc, rev = data.scenario("claimed")
    run = data.new_run(sc, rev)
    monkeypatch.setattr(engine_runner, "execute", lambda run_id, worker="": "passed")
    assert execute_run.apply(args=[run.pk]).get() == "passed"
    run.refresh_from_db()
    facts = run.worker_env.facts
    import django

    assert facts["packages"]["django"] == django.get_version()
    assert facts["python"] and facts["libvirt"], facts
    assert worker_environment_id() == run.worker_env_id, "one row per distinct environment"
    assert facts == worker_facts()
    assert lifecycle.claim(run.pk).outcome == "stale"


def test_the_domain_xml_is_read_when_the_run_starts():
    """Against libvirt's test driver (its running domain ``test``): the XML is stored; the
    driver has no guest agent, so no boot id, and the run is not held up for it."""
    sc, rev = data.scenario("facts")
    run = data.new_run(sc, rev, targets=(("testdrv", "test"), ("testdrv", "no-such-vm")))
    from hosts.models import Host

    Host.objects.filter(name="testdrv").update(uri="test:///default")
    record_target_facts(run)
    found, missing = RunTarget.objects.filter(run=run).order_by("ordinal")
    assert "<name>test</name>" in found.domain_xml and found.boot_id == ""
    assert missing.domain_xml == "" and missing.boot_id == ""


def test_the_api_answers_the_same_comparison(client):
    from rest_framework.authtoken.models import Token

    user = make_user("vera", "viewer")
    good, bad = passed_then_failed(user)
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}
    assert client.get(f"/api/runs/{bad.pk}/investigation/").status_code in (401, 403)
    body = client.get(f"/api/runs/{bad.pk}/investigation/", **auth).json()
    assert body["run"] == bad.pk and body["passed_run"] == good.pk
    assert body["revision"]["this"] == 2 and body["revision"]["passed"] == 1
    assert "+    text: hello world" in body["revision"]["diff"]
    assert body["variables"][0] == {"name": "greeting", "a": "Hi", "b": "Hello", "changed": True}
    (target,) = body["targets"]
    assert target["this"]["boot_id"] == "bbbb-2222" and target["passed"]["boot_id"] == "aaaa-1111"
    assert "+  <memory unit='KiB'>524288</memory>" in target["domain_xml_diff"]
    assert body["worker"]["this"]["worker"] == "w2@rack2"
    assert body["worker"]["passed"]["worker"] == "w1@rack1"
    assert {"name": "numpy", "a": None, "b": "2.1"} in body["worker"]["package_changes"]
    assert [s["step_id"] for s in body["failed_steps"]] == ["2"]
    assert client.get("/api/runs/999999/investigation/", **auth).status_code == 404
