"""Queued runs whose task message was lost (broker flushed or restarted without persistence)
are re-sent; runs whose message waits in a queue or is held by a worker are not."""

import pytest

from runs import reaper
from runs.models import Run
from tests.dist import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls = []
    import runs.services

    monkeypatch.setattr(runs.services, "send_run", lambda run: calls.append(run.pk))
    return calls


@pytest.fixture
def vm1():
    return f.vm(f.host("hd-a"), "vm1")


def test_missing_message_is_resent_once_per_period(vm1, sent, monkeypatch, settings):
    settings.ATP_QUEUED_LOST_AFTER = 60
    monkeypatch.setattr(reaper, "broker_run_ids", lambda: set())
    monkeypatch.setattr(reaper.time, "sleep", lambda s: None)
    run = f.run(f.revision(), [vm1], state="queued", age=90)
    young = f.run(f.revision("young"), [vm1], state="queued", age=10)
    assert reaper.reap()["resent"] == [run.pk]
    assert sent == [run.pk]
    assert run.events.get(type="resent").payload["reason"].endswith("is in no queue")
    assert reaper.reap()["resent"] == []  # just re-sent: wait another period
    assert Run.objects.get(pk=young.pk).events.count() == 0


def test_message_in_the_broker_is_not_resent(vm1, sent, monkeypatch, settings):
    settings.ATP_QUEUED_LOST_AFTER = 60
    run = f.run(f.revision(), [vm1], state="queued", age=90)
    monkeypatch.setattr(reaper, "broker_run_ids", lambda: {run.pk})
    assert reaper.reap()["resent"] == []
    assert sent == []


def test_message_seen_on_the_second_look_is_not_resent(vm1, sent, monkeypatch, settings):
    settings.ATP_QUEUED_LOST_AFTER = 60
    run = f.run(f.revision(), [vm1], state="queued", age=90)
    looks = iter([set(), {run.pk}])
    monkeypatch.setattr(reaper, "broker_run_ids", lambda: next(looks))
    monkeypatch.setattr(reaper.time, "sleep", lambda s: None)
    assert reaper.reap()["resent"] == []


def test_real_redis_broker_is_inspected(vm1, _redis_for_web):
    """A message sent to a host queue on the real Redis broker is found by run id; once it is
    gone, it is not."""
    import redis

    from atp_site.celery import app

    queue = "host.hd-probe-inspect"
    client = redis.Redis.from_url(app.conf.broker_url)
    client.delete(queue)
    try:
        app.send_task("runs.execute_run", args=[987654], queue=queue)
        ids = reaper.broker_run_ids()
        assert ids is not None and 987654 in ids
        client.delete(queue)
        assert 987654 not in reaper.broker_run_ids()
    finally:
        client.delete(queue)
        client.close()


def test_unacked_message_counts_only_while_fresh(vm1, _redis_for_web, settings):
    """A message held (unacknowledged) by a worker for longer than ATP_QUEUED_LOST_AFTER while
    its run is still queued belongs to a dead worker: it no longer counts as present."""
    import base64
    import json
    import time

    import redis

    from atp_site.celery import app

    settings.ATP_QUEUED_LOST_AFTER = 60
    client = redis.Redis.from_url(app.conf.broker_url)
    body = base64.b64encode(json.dumps([[424242], {}, {}]).encode()).decode()
    msg = {
        "body": body,
        "headers": {"task": "runs.execute_run", "id": "x"},
        "properties": {"body_encoding": "base64"},
    }
    try:
        client.hset("unacked", "tag-hd-probe", json.dumps([msg, "", "host.hd-a"]))
        client.zadd("unacked_index", {"tag-hd-probe": time.time() - 5})
        assert 424242 in reaper.broker_run_ids()
        client.zadd("unacked_index", {"tag-hd-probe": time.time() - 600})
        assert 424242 not in reaper.broker_run_ids()
    finally:
        client.hdel("unacked", "tag-hd-probe")
        client.zrem("unacked_index", "tag-hd-probe")
        client.close()
