"""Per-host slot limits (runs.slots, claimed by runs.lifecycle.claim): counted from running runs in the database, per host."""

import pytest

from runs import lifecycle, slots
from tests.dist import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def rev():
    return f.revision()


def test_claim_marks_running_with_worker_and_heartbeat(rev):
    h = f.host("hd-a", slots=1)
    run = f.run(rev, [f.vm(h, "vm1")])
    claim = lifecycle.claim(run.pk, worker="w1@box", task_id="t-1")
    assert claim.ok and claim.outcome == slots.CLAIMED
    run.refresh_from_db()
    assert (run.state, run.worker, run.task_id) == ("running", "w1@box", "t-1")
    assert run.started is not None and run.heartbeat is not None


def test_full_host_leaves_run_queued_with_reason(rev):
    h = f.host("hd-a", slots=2)
    a, b, c = f.vm(h, "vm1"), f.vm(h, "vm2"), f.vm(h, "vm3")
    f.run(rev, [a], state="running", heartbeat_age=1)
    f.run(rev, [b], state="running", heartbeat_age=1)
    waiting = f.run(rev, [c])
    claim = lifecycle.claim(waiting.pk, worker="w1")
    assert claim.outcome == slots.NO_SLOT
    assert claim.full_hosts == ["hd-a"]
    assert "hd-a (2/2 running)" in claim.reason
    waiting.refresh_from_db()
    assert waiting.state == "queued" and waiting.started is None


def test_finished_runs_free_their_slot(rev):
    h = f.host("hd-a", slots=1)
    a, b = f.vm(h, "vm1"), f.vm(h, "vm2")
    f.run(rev, [a], state="finished", result="error")
    assert lifecycle.claim(f.run(rev, [b]).pk).ok


def test_run_with_several_targets_on_one_host_takes_one_slot(rev):
    h = f.host("hd-a", slots=2)
    vms = [f.vm(h, f"vm{i}") for i in range(3)]
    f.run(rev, vms[:2], state="running", heartbeat_age=1)  # one run, two VMs: one slot
    assert slots.free_slots(h) == 1
    assert lifecycle.claim(f.run(rev, [vms[2]]).pk).ok
    assert slots.free_slots(h) == 0


def test_every_host_of_the_run_needs_a_free_slot(rev):
    ha, hb = f.host("hd-a", slots=3), f.host("hd-b", slots=1)
    f.run(rev, [f.vm(hb, "b1")], state="running", heartbeat_age=1)
    run = f.run(rev, [f.vm(ha, "a1"), f.vm(hb, "b2")])
    claim = lifecycle.claim(run.pk)
    assert claim.outcome == slots.NO_SLOT and claim.full_hosts == ["hd-b"]


def test_slots_lowered_below_running_count_refuses_new_runs(rev):
    h = f.host("hd-a", slots=3)
    for i in range(3):
        f.run(rev, [f.vm(h, f"r{i}")], state="running", heartbeat_age=1)
    h.slots = 1
    h.save()
    assert slots.free_slots(h) == -2
    assert lifecycle.claim(f.run(rev, [f.vm(h, "new")]).pk).outcome == slots.NO_SLOT


def test_second_claim_of_the_same_run_is_stale(rev):
    h = f.host("hd-a", slots=4)
    run = f.run(rev, [f.vm(h, "vm1")])
    assert lifecycle.claim(run.pk, worker="w1").ok
    again = lifecycle.claim(run.pk, worker="w2")
    assert again.outcome == slots.STALE and "running" in again.reason
    run.refresh_from_db()
    assert run.worker == "w1"


def test_missing_or_finished_run_is_stale(rev):
    h = f.host("hd-a")
    done = f.run(rev, [f.vm(h, "vm1")], state="finished", result="passed")
    assert lifecycle.claim(done.pk).outcome == slots.STALE
    assert lifecycle.claim(999_999).outcome == slots.STALE


def test_target_without_host_needs_no_slot(rev):
    from runs.models import RunTarget

    h = f.host("hd-a", slots=1)
    f.run(rev, [f.vm(h, "busy")], state="running", heartbeat_age=1)
    run = f.run(rev, [])
    RunTarget.objects.create(run=run, name="vdi/desk1", vm_name="desk1")
    assert lifecycle.claim(run.pk).ok


def test_full_hosts_decision():
    assert slots.full_hosts({"a": 2, "b": 1}, {"a": 1, "b": 1}) == ["b"]
    assert slots.full_hosts({"a": 2}, {}) == []
    assert slots.full_hosts({"a": 0}, {}) == ["a"]
