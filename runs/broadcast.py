"""Broadcast of stored events to the run's channel group ``run_<id>`` (a wake-up only: the
database holds the truth, clients catch up by sequence number)."""

from __future__ import annotations

import logging

from atp_site.channel_send import group_send

log = logging.getLogger(__name__)


def group_name(run_id: int) -> str:
    return f"run_{run_id}"


def broadcast(run_id: int, event: dict) -> None:
    """Send one stored event to the run's group; a channel-layer failure is logged only
    (clients catch up from the database by sequence number)."""
    try:
        group_send(group_name(run_id), {"type": "run.event", "event": event})
    except Exception:
        log.warning("run %s: broadcast of #%s failed", run_id, event.get("seq"), exc_info=True)
