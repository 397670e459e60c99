"""What the parts of a run on several hosts are doing, for people (the run page, the API) and
for the reaper's "no worker" deadline; reads of the database only, never of the broker.

A queued part waits either for a worker of its host (nobody took its task from ``host.<name>``
since this attempt was queued) or for a free slot of its host (a worker took it and sends it
again until a slot frees). Whether any worker consumes a host's queue is read from what workers
leave in the database: the heartbeats of the runs and parts they ran from that queue and the
times they took a part's task (``RunPart.taken_at``). There is no worker registry: a worker
that never ran anything from a queue is not seen until it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from atp_core.status import RunState

from .models import Run, RunPart


@dataclass(frozen=True)
class Seen:
    """The last sign of a worker on a queue: when, and which worker."""

    at: datetime
    worker: str


def last_seen_on_queues(queues: list[str]) -> dict[str, Seen]:
    """``queue -> Seen`` of the latest heartbeat of a run or part from that queue, or the
    latest take of a part's task; queues without any sign are left out. Three queries a queue
    (the queues of one run: a handful)."""
    seen: dict[str, Seen] = {}

    def keep(queue: str, at: datetime | None, worker: str) -> None:
        if at is not None and (queue not in seen or at > seen[queue].at):
            seen[queue] = Seen(at, worker or "")

    for queue in sorted(set(queues)):
        row = (
            Run.objects.filter(queue=queue, parts__isnull=True, heartbeat__isnull=False)
            .order_by("-heartbeat")
            .values_list("heartbeat", "worker")
            .first()
        )
        if row:
            keep(queue, *row)
        for field in ("heartbeat", "taken_at"):
            row = (
                RunPart.objects.filter(queue=queue, **{f"{field}__isnull": False})
                .order_by(f"-{field}")
                .values_list(field, "worker")
                .first()
            )
            if row:
                keep(queue, *row)
    return seen


def waiting_since(part: RunPart, run_created: datetime) -> datetime:
    """Since when a queued part has had no sign of a worker taking it: this attempt's queueing
    (the run's launch for the first) or the latest take of its task, whichever is later."""
    since = part.queued_at or run_created
    return max(since, part.taken_at) if part.taken_at else since


def quiet_since(part: RunPart, run_created: datetime, seen: Seen | None) -> datetime:
    """Since when neither the part nor anything else on its queue saw a worker."""
    since = waiting_since(part, run_created)
    return max(since, seen.at) if seen is not None else since


WAIT_WARN_SECONDS = 30


def worker_deadline() -> float:
    return float(getattr(settings, "ATP_PART_WORKER_DEADLINE", 600))


@dataclass(frozen=True)
class PartStatus:
    """A part as a person reads it: its row, and for a queued part what it waits for."""

    part: RunPart
    waiting_for: str  # "" (not queued), "worker" or "slot"
    waiting_since: datetime | None
    last_seen: Seen | None
    deadline_at: datetime | None  # when the reaper ends it if no worker shows up
    note: str

    @property
    def overdue(self) -> bool:
        """Waited for a worker longer than a worker normally takes (shown as a warning, not
        before: a part is normally taken within a second or two)."""
        if self.waiting_for != "worker" or self.waiting_since is None:
            return False
        return (timezone.now() - self.waiting_since).total_seconds() > WAIT_WARN_SECONDS


def _utc(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe(run: Run, parts: list[RunPart] | None = None) -> list[PartStatus]:
    """The statuses of ``run``'s parts (none for a run on one host), in part order."""
    parts = list(run.parts.order_by("pk")) if parts is None else parts
    queued = [p for p in parts if p.state == RunState.QUEUED]
    seen = last_seen_on_queues([p.queue for p in queued]) if queued else {}
    deadline = worker_deadline()
    out = []
    for part in parts:
        if part.state != RunState.QUEUED:
            note = ""
            if part.state == RunState.RUNNING and part.attempt > 1:
                note = f"attempt {part.attempt}; {part.reason}" if part.reason else ""
            out.append(PartStatus(part, "", None, None, None, note))
            continue
        last = seen.get(part.queue)
        since = waiting_since(part, run.created)
        taken = part.taken_at is not None and part.taken_at >= (part.queued_at or run.created)
        if taken:
            note = (
                f"taken by {part.worker or 'a worker'} at {_utc(part.taken_at)}; waiting for a "
                f"free slot on host {part.host_name}"
            )
            out.append(PartStatus(part, "slot", since, last, None, note))
            continue
        ends = quiet_since(part, run.created, last) + timedelta(seconds=deadline)
        if last is None:
            seen_text = f"no worker has taken work from {part.queue} yet"
        else:
            seen_text = f"last worker seen on {part.queue}: {last.worker or '?'} at {_utc(last.at)}"
        note = (
            f"waiting for a worker on {part.queue} since {_utc(since)}; {seen_text}; its "
            f"targets end with error at {_utc(ends)} if no worker takes it"
        )
        out.append(PartStatus(part, "worker", since, last, ends, note))
    return out
