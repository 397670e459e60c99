"""Broadcast of stored events to the run's channel group ``run_<id>`` (a wake-up only: the
database holds the truth, clients catch up by sequence number)."""

from __future__ import annotations

import json
import logging

from atp_site.channel_send import group_send

log = logging.getLogger(__name__)


def group_name(run_id: int) -> str:
    return f"run_{run_id}"


def broadcast(run_id: int, event: dict) -> None:
    """Send one stored event to the run's group; a channel-layer failure is logged only
    (clients catch up from the database by sequence number).

    An event with its live ``view`` (``runs.live_updates``) travels as the JSON text the
    websockets send, encoded here once, not once per viewer by each consumer; ``event`` keeps
    the bare event (its seq and type for the consumers, listeners in tests)."""
    message = {"type": "run.event"}
    if "view" in event:
        message["text"] = json.dumps(event)
        event = {k: v for k, v in event.items() if k != "view"}
    message["event"] = event
    try:
        group_send(group_name(run_id), message)
    except Exception:
        log.warning("run %s: broadcast of #%s failed", run_id, event.get("seq"), exc_info=True)
