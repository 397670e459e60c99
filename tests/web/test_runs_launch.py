"""launch_run resolves targets against the inventory and queues the task to host.<name>."""

from __future__ import annotations

import base64
import json

import pytest
import redis
from django.conf import settings

from atp_core.errors import InvalidInput
from hosts.models import Host, VirtualMachine
from runs.models import Run, RunEvent
from runs.services import launch_run, resolve_targets
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db


# The session's Celery worker (tests/fixtures/web.py) consumes host.local: a message the test
# reads there could be taken first. The host whose queue is read is one no worker consumes.
UNCONSUMED = "launch-probe"


@pytest.fixture
def broker(redis_url):
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(f"host.{UNCONSUMED}", "host.other")
    yield client
    client.delete(f"host.{UNCONSUMED}", "host.other")


def _queued_run_ids(client, queue: str) -> list[int]:
    ids = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "runs.execute_run"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return ids


def test_launch_resolves_vm_and_queues_to_host_queue(broker, django_capture_on_commit_callbacks):
    host, _ = inventory()
    Host.objects.filter(pk=host.pk).update(name=UNCONSUMED)
    user = make_user("olga", "operator")
    rev = revision()
    with django_capture_on_commit_callbacks(execute=True):
        run = launch_run(rev, [{"vm": "demo-1", "host": UNCONSUMED}], {"who": "x"}, user)
    run.refresh_from_db()
    assert run.state == "queued" and run.queue == f"host.{UNCONSUMED}"
    assert run.source == rev.content and run.name == "demo" and run.launched_by == user
    assert run.variables == {"who": "x"} and run.max_attempts == 1
    targets = list(run.run_targets.all())
    assert [(t.name, t.vm_name, t.host_uri, t.host_id) for t in targets] == [
        (f"{UNCONSUMED}/demo-1", "demo-1", "qemu:///system", host.pk)
    ]
    assert run.task_id, "the task id of the sent message is stored"
    assert _queued_run_ids(broker, f"host.{UNCONSUMED}") == [run.pk]
    first = RunEvent.objects.get(run=run)
    assert (first.seq, first.type) == (1, "queued")
    assert first.payload["targets"] == [f"{UNCONSUMED}/demo-1"] and run.last_seq == 1


def test_tags_duplicates_and_ambiguous_vm_names():
    inventory()
    other = Host.objects.create(name="other", uri="test:///default")
    VirtualMachine.objects.create(host=other, name="demo-1")
    names = [t["name"] for t in resolve_targets([{"tag": "demo"}])]
    assert names == ["local/demo-1", "local/demo-2"]
    # duplicates dropped, order kept
    names = [t["name"] for t in resolve_targets([{"vm": "demo-2"}, {"tag": "demo"}])]
    assert names == ["local/demo-2", "local/demo-1"]
    with pytest.raises(InvalidInput, match="several hosts"):
        resolve_targets([{"vm": "demo-1"}])
    (entry,) = resolve_targets([{"vm": "demo-1", "host": "other"}])
    assert entry["name"] == "other/demo-1" and entry["host"] == other
    # a VM not synced yet is accepted on a known host
    (entry,) = resolve_targets([{"vm": "fresh", "host": "local"}])
    assert entry["vm"] is None and entry["vm_name"] == "fresh" and entry["name"] == "local/fresh"


def test_empty_targets_take_the_scenario_defaults(django_capture_on_commit_callbacks, broker):
    inventory()
    rev = revision(targets=[{"vm": "demo-2", "host": "local", "tag": None}])
    with django_capture_on_commit_callbacks(execute=True):
        run = launch_run(rev, [], {}, None, retries=2)
    assert [t.name for t in run.run_targets.all()] == ["local/demo-2"]
    assert run.max_attempts == 3 and run.variables == {}
    assert run.launched_by is None


@pytest.mark.parametrize(
    "targets, message",
    [
        ([{"tag": "nothing-has-this"}], "no VM matches"),
        ([{"vm": "demo-1", "host": "nowhere"}], "no host named 'nowhere'"),
        ([{"vm": "ghost"}], "no VM named 'ghost'"),
        ([{"flavour": "x"}], "unknown key 'flavour'"),
        ([], "no targets"),
    ],
)
def test_nothing_resolves_is_a_clear_error(targets, message):
    inventory()
    rev = revision()
    with pytest.raises(InvalidInput, match=message):
        launch_run(rev, targets, {}, None)
    assert not Run.objects.exists()
