"""Per-host slot limits, honoured across every worker on every machine.

``Host.slots`` is the number of runs a host takes at once. The count is the database's: a run
holds a slot on each host of its targets while its state is ``running``. Claiming is the
worker's first step (``runs.lifecycle.claim``): in one transaction it locks the run and, through
``take_slots``, its hosts (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises every write
transaction), counts the running runs per host and either marks the run running or leaves it
queued. Nothing to release: a run that finishes (or is reaped after its worker died) stops
counting. So a worker killed with -9 never leaks a slot.

A run on several hosts (``RunPart`` per host) holds a slot on a host while its part there is
``running``: each part is claimed against its own host (``take_slots(run, part=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from atp_core.status import RunState

CLAIMED = "claimed"
NO_SLOT = "no_slot"
STALE = "stale"  # the run is no longer queued (duplicate or late message): do nothing


@dataclass
class Claim:
    outcome: str
    reason: str = ""
    full_hosts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == CLAIMED


def full_hosts(slots_by_host: dict[str, int], running_by_host: dict[str, int]) -> list[str]:
    """Names of the hosts with no free slot (pure: the decision, for unit tests)."""
    return sorted(
        name for name, slots in slots_by_host.items() if running_by_host.get(name, 0) >= slots
    )


def running_counts(host_ids: list[int], exclude_run_id: int | None = None) -> dict[int, int]:
    """Running runs per host id (a run with several targets on one host counts once; a run on
    several hosts counts on the hosts where its part is running)."""
    from runs.models import RunPart, RunTarget

    whole = RunTarget.objects.filter(
        host_id__in=host_ids, run__state=RunState.RUNNING, run__parts__isnull=True
    )
    parts = RunPart.objects.filter(host_id__in=host_ids, state=RunState.RUNNING)
    if exclude_run_id is not None:
        whole = whole.exclude(run_id=exclude_run_id)
        parts = parts.exclude(run_id=exclude_run_id)
    counts: dict[int, int] = {}
    for qs in (whole, parts):
        for row in qs.values("host_id").annotate(n=Count("run_id", distinct=True)):
            counts[row["host_id"]] = counts.get(row["host_id"], 0) + row["n"]
    return counts


def free_slots(host) -> int:
    """Slots of ``host`` not taken by running runs right now (may be negative after an edit)."""
    return host.slots - running_counts([host.pk]).get(host.pk, 0)


def take_slots(run, part=None) -> Claim | None:
    """None when every host of ``run``'s targets (of ``part``'s host only, for a part) has a
    free slot, else ``Claim(NO_SLOT)``.

    Called by ``runs.lifecycle.claim`` with the run's row locked: it locks the hosts too, so a
    second worker claiming on the same host waits until the first commits.
    """
    from hosts.models import Host

    targets = part.targets if part is not None else run.run_targets
    host_ids = sorted({hid for hid in targets.values_list("host_id", flat=True) if hid is not None})
    # Lock the hosts in id order (no deadlock between two workers claiming runs that share
    # hosts): a second worker claiming on the same host waits here until we commit.
    hosts = list(Host.objects.select_for_update().filter(pk__in=host_ids).order_by("pk"))
    counts = running_counts(host_ids, exclude_run_id=run.pk)
    full = full_hosts(
        {h.name: h.slots for h in hosts}, {h.name: counts.get(h.pk, 0) for h in hosts}
    )
    if not full:
        return None
    detail = ", ".join(
        f"{h.name} ({counts.get(h.pk, 0)}/{h.slots} running)" for h in hosts if h.name in full
    )
    return Claim(NO_SLOT, f"no free slot on {detail}", full)
