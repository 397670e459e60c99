"""A part waiting for a worker is shown as a warning only once it has waited longer than a
worker normally takes (a part is normally taken within a second or two)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from runs.part_status import WAIT_WARN_SECONDS, PartStatus


def _status(waiting_for: str, waited: float | None) -> PartStatus:
    since = None if waited is None else timezone.now() - timedelta(seconds=waited)
    return PartStatus(None, waiting_for, since, None, None, "")


def test_a_fresh_wait_for_a_worker_is_not_a_warning_yet():
    assert not _status("worker", 2).overdue


def test_a_long_wait_for_a_worker_is_a_warning():
    assert _status("worker", WAIT_WARN_SECONDS + 30).overdue


def test_waiting_for_a_slot_or_not_waiting_is_never_a_warning():
    assert not _status("slot", WAIT_WARN_SECONDS + 30).overdue
    assert not _status("", None).overdue
