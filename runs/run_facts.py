"""What the investigation view compares besides the scenario: the worker's environment (stored
at claim) and each target VM's domain XML and boot id (stored when the run starts).

Both are best effort: a fact that cannot be read is left empty and the run goes on; the reads
are bounded (the guest agent's boot id: ``BOOT_ID_TIMEOUT`` per target, and nothing more once
``FACTS_BUDGET`` seconds have gone by).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time

log = logging.getLogger(__name__)

DOMAIN_XML_CAP = 64 * 1024
BOOT_ID_TIMEOUT = 2.0
FACTS_BUDGET = 10.0


@functools.lru_cache(maxsize=1)
def worker_facts() -> dict:
    """This process's Python, platform, libvirt library and installed packages (read once)."""
    import importlib.metadata
    import platform

    packages: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").strip()
        if name:
            packages[name.lower().replace("_", "-")] = dist.version
    try:
        import libvirt

        number = libvirt.getVersion()
        libvirt_version = f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"
    except Exception:  # no libvirt in this process: say so, do not fail the claim
        libvirt_version = ""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libvirt": libvirt_version,
        "packages": dict(sorted(packages.items())),
    }


def worker_environment_id() -> int | None:
    """The WorkerEnvironment row of this process's facts (made on first use); None when it
    cannot be stored (a run is never refused for it)."""
    from .models import WorkerEnvironment

    try:
        facts = worker_facts()
        digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
        row, _ = WorkerEnvironment.objects.get_or_create(digest=digest, defaults={"facts": facts})
        return row.pk
    except Exception:
        log.warning("the worker's environment could not be stored", exc_info=True)
        return None


def record_target_facts(run, targets=None) -> None:
    """Store each target VM's domain XML and (when it runs and its agent answers) boot id;
    ``targets``: a queryset of some of the run's targets (a part's), else all of them."""
    from atp_core.errors import AtpError
    from atp_core.protocol.domain import DomainRef
    from atp_core.protocol.power import BOOT_ID_PATH
    from atp_core.protocol.qga import GuestAgent
    from hosts.connections import connection

    from .models import RunTarget

    deadline = time.monotonic() + FACTS_BUDGET
    rows = targets if targets is not None else run.run_targets
    for target in rows.select_related("host").order_by("ordinal"):
        if target.host_id is None or not target.vm_name or time.monotonic() > deadline:
            continue
        xml = boot_id = ""
        try:
            ref = DomainRef(connection(target.host), target.vm_name)
            xml = str(ref.call("read XML", lambda d: d.XMLDesc(0), running=False))
            if ref.call("state", lambda d: d.isActive(), running=False):
                agent = GuestAgent(ref, timeout=BOOT_ID_TIMEOUT)
                raw = agent.file_read(BOOT_ID_PATH, max_bytes=128, timeout=BOOT_ID_TIMEOUT)
                boot_id = raw.decode(errors="replace").strip()[:64]
        except (AtpError, OSError) as exc:
            log.info("run %s: %s: VM facts partly read (%s)", run.pk, target.name, exc)
        except Exception:
            log.warning("run %s: %s: VM facts not read", run.pk, target.name, exc_info=True)
        if len(xml) > DOMAIN_XML_CAP:
            xml = xml[:DOMAIN_XML_CAP] + "\n<!-- cut at 64 KiB -->"
        if xml or boot_id:
            RunTarget.objects.filter(pk=target.pk).update(domain_xml=xml, boot_id=boot_id)
