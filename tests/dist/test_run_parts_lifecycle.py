"""The life of a run on several hosts, part by part (``runs.lifecycle`` claim_part /
finish_part, ``runs.slots``, ``runs.reaper``), on the database alone: each part takes a slot of
its own host, the last part to end ends the run with the worst result and one ``run_finished``,
a whole-run end closes the open parts, a part whose heartbeat stopped is reaped alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs import lifecycle, reaper, slots
from runs.models import RunEvent, RunPart
from tests.dist import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def rev():
    return f.revision()


def parted_run(rev, vms):
    """A queued run on ``vms`` with a part per host, as ``launch_run`` makes it."""
    run = f.run(rev, vms)
    for target in run.run_targets.select_related("host"):
        part, _ = RunPart.objects.get_or_create(
            run=run,
            host=target.host,
            host_name=target.host.name,
            defaults={"queue": f"host.{target.host.name}"},
        )
        target.part = part
        target.save(update_fields=["part"])
    return run


def parts_of(run) -> dict[str, RunPart]:
    return {p.host_name: p for p in RunPart.objects.filter(run=run)}


def test_each_part_takes_a_slot_of_its_own_host_only(rev):
    ha, hb = f.host("hd-a", slots=1), f.host("hd-b", slots=1)
    blocker = f.run(rev, [f.vm(hb, "b0")], state="running", heartbeat_age=1)
    run = parted_run(rev, [f.vm(ha, "a1"), f.vm(hb, "b1")])
    parts = parts_of(run)
    assert lifecycle.claim(run.pk).outcome == slots.STALE  # claimed part by part, not whole
    assert lifecycle.claim_part(parts["hd-a"].pk, worker="wa@x", task_id="ta").ok
    refused = lifecycle.claim_part(parts["hd-b"].pk, worker="wb@x")
    assert refused.outcome == slots.NO_SLOT and refused.full_hosts == ["hd-b"]
    run.refresh_from_db()
    assert (run.state, run.worker) == ("running", "wa@x")
    # the running part holds hd-a's slot; the queued part holds none of hd-b's
    assert slots.free_slots(ha) == 0 and slots.running_counts([hb.pk]) == {hb.pk: 1}
    lifecycle.finish(blocker.pk, "passed", close_open=False)
    assert lifecycle.claim_part(parts["hd-b"].pk, worker="wb@x").ok
    assert lifecycle.claim_part(parts["hd-b"].pk).outcome == slots.STALE  # a duplicate message
    assert {p.state for p in parts_of(run).values()} == {"running"}


def test_the_last_part_ends_the_run_with_the_worst_result(rev):
    ha, hb = f.host("hd-a"), f.host("hd-b")
    run = parted_run(rev, [f.vm(ha, "a1"), f.vm(hb, "b1")])
    parts = parts_of(run)
    for part in parts.values():
        assert lifecycle.claim_part(part.pk, worker=f"w-{part.host_name}").ok
    ended = lifecycle.finish_part(
        parts["hd-a"].pk, "passed", data={"totals": {"passed": 1}}, close_open=False
    )
    assert ended == lifecycle.PART_ENDED
    run.refresh_from_db()
    assert run.state == "running" and run.result is None
    ended = lifecycle.finish_part(parts["hd-b"].pk, "error", "no route to host")
    assert ended == lifecycle.RUN_ENDED
    run.refresh_from_db()
    assert (run.state, run.result, run.reason) == ("finished", "error", "hd-b: no route to host")
    assert run.totals == {"passed": 1}
    assert lifecycle.finish_part(parts["hd-b"].pk, "passed") == ""  # refused: ended once
    assert not lifecycle.finish(run.pk, "passed")
    types = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("type", flat=True))
    assert types == ["part_finished", "part_finished", "run_finished"], types
    results = dict(run.run_targets.values_list("host__name", "result"))
    assert results == {"hd-b": "error", "hd-a": None}  # close_open=False: the engine's own


def test_a_whole_run_end_closes_its_open_parts(rev):
    ha, hb = f.host("hd-a"), f.host("hd-b")
    run = parted_run(rev, [f.vm(ha, "a1"), f.vm(hb, "b1")])
    parts = parts_of(run)
    assert lifecycle.claim_part(parts["hd-a"].pk).ok
    assert lifecycle.finish(run.pk, "cancelled", "cancelled by someone")
    assert {(p.state, p.result) for p in parts_of(run).values()} == {("finished", "cancelled")}
    assert lifecycle.claim_part(parts["hd-b"].pk).outcome == slots.STALE
    assert lifecycle.finish_part(parts["hd-a"].pk, "passed") == ""


def test_the_reaper_ends_a_lost_part_alone(rev, settings):
    ha, hb = f.host("hd-a"), f.host("hd-b")
    run = parted_run(rev, [f.vm(ha, "a1"), f.vm(hb, "b1")])
    parts = parts_of(run)
    for part in parts.values():
        assert lifecycle.claim_part(part.pk, worker=f"w-{part.host_name}@x").ok
    stale = timezone.now() - timedelta(seconds=settings.ATP_HEARTBEAT_WINDOW + 5)
    RunPart.objects.filter(pk=parts["hd-b"].pk).update(heartbeat=stale)
    lifecycle.heartbeat_part(parts["hd-a"].pk)
    done = reaper.reap()
    assert done["lost"] == [run.pk], done
    parts = parts_of(run)
    assert (parts["hd-b"].state, parts["hd-b"].result) == ("finished", "error")
    assert parts["hd-a"].state == "running"
    run.refresh_from_db()
    assert run.state == "running"  # the other part goes on
    lost = RunEvent.objects.get(run=run, type="worker_lost").payload
    assert lost["host"] == "hd-b" and "w-hd-b@x stopped sending heartbeats" in lost["reason"]
    assert reaper.reap()["lost"] == []  # once
    assert lifecycle.finish_part(parts["hd-a"].pk, "passed") == lifecycle.RUN_ENDED
    run.refresh_from_db()
    assert run.result == "error" and run.reason.startswith("hd-b: worker w-hd-b@x"), run.reason
