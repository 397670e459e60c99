"""The reaper's decisions as pure functions: lost worker, overdue run, cancel escalation,
queued run whose task message was lost."""

from datetime import UTC, datetime, timedelta

from runs import reaper

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def running(**kw):
    args = {"worker": "w1@box", "started": ago(100), "heartbeat": ago(3), "now": NOW}
    args |= {"window": 30, "hard_limit": 3900} | kw
    return reaper.judge_running(**args)


def test_fresh_heartbeat_is_ok():
    assert running().action == reaper.OK


def test_heartbeat_exactly_at_the_window_is_still_ok():
    assert running(heartbeat=ago(30)).action == reaper.OK


def test_stale_heartbeat_is_lost_with_worker_and_time():
    d = running(heartbeat=ago(31))
    assert d.action == reaper.LOST
    assert d.reason == "worker w1@box stopped sending heartbeats at 2025-01-01 11:59:29 UTC"


def test_no_heartbeat_counts_from_the_start():
    assert running(heartbeat=None, started=ago(10)).action == reaper.OK
    d = running(heartbeat=None, started=ago(45))
    assert d.action == reaper.LOST and "11:59:15" in d.reason


def test_never_started_nor_beat_is_lost():
    d = running(heartbeat=None, started=None)
    assert d.action == reaper.LOST and "never sent a heartbeat" in d.reason


def test_unknown_worker_is_named_so():
    assert "worker (unknown) stopped" in running(worker="", heartbeat=ago(60)).reason


def test_heartbeats_stopping_after_the_hard_limit_say_so():
    d = running(started=ago(4000), heartbeat=ago(40), hard_limit=3900)
    assert d.action == reaper.LOST and "hard time limit of 3900 s" in d.reason


def test_alive_past_the_hard_limit_is_overdue():
    d = running(started=ago(3940), heartbeat=ago(2), hard_limit=3900)
    assert d.action == reaper.OVERDUE and "3940 s" in d.reason
    assert running(started=ago(3920), heartbeat=ago(2), hard_limit=3900).action == reaper.OK


def test_cancel_within_grace_waits_then_escalates():
    assert reaper.judge_cancel(requested_at=None, now=NOW, grace=30).action == reaper.OK
    assert reaper.judge_cancel(requested_at=ago(29), now=NOW, grace=30).action == reaper.OK
    d = reaper.judge_cancel(requested_at=ago(31), now=NOW, grace=30)
    assert d.action == reaper.ESCALATE
    assert "11:59:29 UTC" in d.reason and "within 30 s" in d.reason


def queued(**kw):
    args = {"dispatched_at": ago(300), "now": NOW, "lost_after": 120} | kw
    return reaper.judge_queued(**args)


def test_queued_run_not_taken_is_resent_after_the_delay_only():
    d = queued()
    assert d.action == reaper.RESEND and "no worker has taken it" in d.reason
    assert queued(dispatched_at=ago(100)).action == reaper.OK


def test_resent_recently_waits_again():
    assert queued(dispatched_at=ago(60)).action == reaper.OK
    assert queued(dispatched_at=ago(121)).action == reaper.RESEND
