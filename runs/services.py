"""Launching, cancelling and re-running runs.

``parse_targets``, ``parse_variables`` and ``parse_pause_on`` read what the Run form and the
schedule form give. ``launch_run`` resolves the requested targets against the inventory, stores
the Run with its RunTargets, records a ``queued`` event and, once the transaction commits, sends
``runs.tasks.execute_run`` to the queue of its targets' host (``host.<name>``). A run whose
targets sit on several hosts gets one ``RunPart`` per host, each sent as ``runs.execute_part``
to its own host's queue (``runs.lifecycle`` ends the run when the last part ends).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import yaml
from django.db import transaction

from atp_core.errors import InvalidInput
from atp_core.status import Result, RunState
from atp_site.tags import filter_tagged
from hosts.models import Host, VirtualMachine

from . import lifecycle
from .event_store import record_event
from .models import BUILD_MAX, RETRIES_MAX, Run, RunPart, RunTarget
from .tasks import dispatch

if TYPE_CHECKING:
    from schedules.models import Schedule

log = logging.getLogger(__name__)

TARGET_KEYS = ("vm", "host", "tag", "desk_pool")


def _scenario_default_targets(revision) -> list[dict]:
    parsed = revision.parsed or {}
    targets = parsed.get("targets") or []
    return [{k: v for k, v in t.items() if v not in (None, "")} for t in targets]


# the target name of a run on no VM (the engine's name for its single branch)
VM_LESS_TARGET = "run"
# steps that never touch a VM: a scenario made only of these (and VDI steps) needs no target
_VM_FREE_KINDS = {"wait", "set", "loop", "group", "parallel"}


def _steps_of(parsed: dict):
    """Every step of a parsed scenario, containers and ``wait_until`` checks included."""

    def walk(items):
        for step in items or []:
            if not isinstance(step, dict):
                continue
            yield step
            for key in ("steps", "finally", "finally_"):
                yield from walk(step.get(key))
            if isinstance(step.get("check"), dict):
                yield from walk([step["check"]])

    for key in ("steps", "finally", "finally_"):
        yield from walk(parsed.get(key))


def _is_vdi_kind(kind: str) -> bool:
    return kind.startswith(("vdi_", "verify_vdi_"))


def needs_vm(revision) -> bool:
    """False when every step is a VDI-platform or VM-free step (wait, set, containers)."""
    kinds = {str(s.get("type", "")) for s in _steps_of(revision.parsed or {})}
    return any(k not in _VM_FREE_KINDS and not _is_vdi_kind(k) for k in kinds) or not kinds


def choose_vdi_endpoint(revision, requested: str | None = None) -> str:
    """The VDI endpoint (name) a run of ``revision`` uses: the one asked for at launch, else the
    one its ``vdi_login`` names, else, when it has VDI steps, the first enabled endpoint."""
    from hosts.models import VdiEndpoint

    steps = list(_steps_of(revision.parsed or {}))
    if requested:
        if not VdiEndpoint.objects.filter(name=requested).exists():
            known = ", ".join(VdiEndpoint.objects.values_list("name", flat=True)) or "none"
            raise InvalidInput(
                f"vdi_endpoint: no VDI endpoint named {requested!r} (known: {known})"
            )
        return requested
    for step in steps:
        named = step.get("endpoint") if step.get("type") == "vdi_login" else None
        if isinstance(named, str) and named and "${" not in named:
            if not VdiEndpoint.objects.filter(name=named).exists():
                raise InvalidInput(f"vdi_login: no VDI endpoint named {named!r}")
            return named
    if any(_is_vdi_kind(str(s.get("type", ""))) for s in steps):
        first = VdiEndpoint.objects.filter(enabled=True).order_by("pk").first()
        return first.name if first else ""
    return ""


def parse_variables(text: str) -> dict:
    """Overrides as YAML/JSON mapping or ``name=value`` lines; values are scalars."""
    text = (text or "").strip()
    if not text:
        return {}
    if "=" in text and ":" not in text.split("=", 1)[0]:
        result = {}
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "=" not in line:
                raise InvalidInput(f"variables line {n}: expected name=value, got {line!r}")
            key, value = line.split("=", 1)
            result[key.strip()] = value.strip()
    else:
        try:
            result = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise InvalidInput(f"variables: not valid YAML{where}") from None
        if not isinstance(result, dict):
            raise InvalidInput("variables: give a mapping (name: value) or name=value lines")
    for key, value in result.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidInput(f"variables: {key!r} is not a valid name (letters, digits, _)")
        if isinstance(value, dict | list):
            raise InvalidInput(f"variables.{key}: only scalar values can be overridden")
    return result


def parse_targets(vm_ids: list[str], tags: str) -> list[dict]:
    """Targets in the scenario format: ``{"vm": name, "host": host}`` and ``{"tag": tag}``."""
    targets: list[dict] = []
    ids = []
    for raw in vm_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise InvalidInput(f"targets: {raw!r} is not a VM id") from None
    if ids:
        found = {
            vm.pk: vm for vm in VirtualMachine.objects.filter(pk__in=ids).select_related("host")
        }
        missing = sorted(set(ids) - set(found))
        if missing:
            raise InvalidInput(f"targets: no VM with id {missing[0]}")
        for pk in ids:
            vm = found[pk]
            target = {"vm": vm.name}
            if vm.host_id:
                target["host"] = vm.host.name
            targets.append(target)
    for tag in [t.strip() for t in (tags or "").split(",") if t.strip()]:
        targets.append({"tag": tag})
    return targets


def parse_pause_on(choice: str, step: str = "") -> str:
    """The run form's pause: a step id typed in wins over the chosen failure/mismatch."""
    step = (step or "").strip().removeprefix("step:")
    return f"step:{step}" if step else (choice or "").strip()


def _vm_target(vm: VirtualMachine) -> dict:
    return {"vm": vm, "host": vm.host, "name": f"{vm.host.name}/{vm.name}"}


def resolve_targets(targets: list[dict]) -> list[dict]:
    """Each requested target as ``{"vm": VirtualMachine|None, "host": Host, "name", "vm_name"}``.

    ``{"vm": name, "host": host}`` names one VM (the host may be left out when the name is
    unique in the inventory; a VM not synced yet is accepted when its host is given);
    ``{"tag": t}`` every libvirt VM tagged ``t``; ``{"desk_pool": p}`` every VM of a desk pool
    that runs on a known host (``hosts.vdi.sync_endpoint`` maps desks to hosts), not gone.
    Duplicates are dropped, order is kept.
    """
    resolved: list[dict] = []
    seen: set[str] = set()

    def add(entry: dict) -> None:
        if entry["name"] not in seen:
            seen.add(entry["name"])
            entry.setdefault("vm_name", entry["vm"].name if entry["vm"] else "")
            resolved.append(entry)

    hosts = {h.name: h for h in Host.objects.all()}
    for n, raw in enumerate(targets):
        where = f"targets[{n}]"
        if not isinstance(raw, dict):
            raise InvalidInput(f"{where}: expected a mapping like {{vm: NAME, host: HOST}}")
        unknown = sorted(set(raw) - set(TARGET_KEYS))
        if unknown:
            raise InvalidInput(
                f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(TARGET_KEYS)})"
            )
        vm_name, host_name = raw.get("vm"), raw.get("host")
        tag, pool = raw.get("tag"), raw.get("desk_pool")
        if vm_name:
            vm_name = str(vm_name)
            if host_name:
                host = hosts.get(str(host_name))
                if host is None:
                    raise InvalidInput(
                        f"{where}: no host named {host_name!r} (known: {', '.join(hosts) or '-'})"
                    )
                vm = VirtualMachine.objects.filter(host=host, name=vm_name).first()
                if vm is not None:
                    entry = _vm_target(vm)
                else:  # not synced yet: the engine will find out whether it exists
                    entry = {"vm": None, "host": host, "name": f"{host.name}/{vm_name}"}
                entry["vm_name"] = vm_name
                add(entry)
                continue
            vms = list(
                VirtualMachine.objects.filter(name=vm_name, host__isnull=False).select_related(
                    "host"
                )
            )
            if not vms:
                raise InvalidInput(f"{where}: no VM named {vm_name!r} on any host")
            if len(vms) > 1:
                names = ", ".join(v.host.name for v in vms)
                raise InvalidInput(
                    f"{where}: VM {vm_name!r} is on several hosts ({names}): give its host"
                )
            add(_vm_target(vms[0]))
        elif tag:
            tagged = [
                vm
                for vm in filter_tagged(VirtualMachine.objects.filter(host__isnull=False), str(tag))
                .select_related("host")
                .order_by("host__name", "name")
                if not host_name or vm.host.name == str(host_name)
            ]
            for vm in tagged:
                add(_vm_target(vm))
        elif pool:
            for vm in (
                VirtualMachine.objects.filter(desk_pool=str(pool), host__isnull=False)
                .exclude(state="gone")
                .select_related("host")
                .order_by("name")
            ):
                add(_vm_target(vm))
        else:
            raise InvalidInput(f"{where}: give vm (with host), tag or desk_pool")
    return resolved


RETRIES_VARIABLE = "run_retries"  # where retries travelled before they were a launch option


def clean_retries(retries: int | str | None) -> int:
    """A launch's retries: new attempts of the run after a lost worker, a whole number from 0 to
    RETRIES_MAX (None or empty: 0). Stored as ``Run.max_attempts`` (1 + retries)."""
    if retries is None or retries == "":
        return 0
    try:
        if isinstance(retries, bool):
            raise ValueError
        value = int(str(retries).strip())
    except ValueError:
        raise InvalidInput(
            f"retries: expected a whole number from 0 to {RETRIES_MAX}, got {retries!r}"
        ) from None
    if not 0 <= value <= RETRIES_MAX:
        raise InvalidInput(f"retries: {value} is out of range (0-{RETRIES_MAX})")
    return value


def check_variables(variables: dict) -> dict:
    """``variables`` as given, refused when they hold ``run_retries``: retries are the launch's
    own parameter now, and a value typed as a variable would otherwise be silently ignored."""
    if RETRIES_VARIABLE in (variables or {}):
        raise InvalidInput(
            f"variables: {RETRIES_VARIABLE} is no longer a variable; give the launch's own "
            f'retries (0-{RETRIES_MAX}) instead: the Retries field of the form, "retries" in '
            "the API, --retries of atp_run"
        )
    return variables


def clean_build(build: str | None) -> str:
    """The build label of a launch (a product version, a CI build number): one line of at most
    BUILD_MAX printable characters, surrounding spaces dropped; empty: no build."""
    value = str(build or "").strip()
    if len(value) > BUILD_MAX:
        raise InvalidInput(f"build: {len(value)} characters; at most {BUILD_MAX}")
    bad = next((c for c in value if not c.isprintable()), None)
    if bad is not None:
        raise InvalidInput(
            f"build: {value!r} holds the control character {bad!r} at position "
            f"{value.index(bad) + 1}; give one line of printable text"
        )
    return value


def send_run(run: Run) -> None:
    """Send the run's task to its queue (``runs.tasks.dispatch``); a broker that refuses it ends
    the run ``error`` rather than leaving it queued unnoticed."""
    try:
        dispatch(run)
    except Exception as exc:
        log.exception("run %s: could not be queued", run.pk)
        lifecycle.finish(run.pk, Result.ERROR, f"could not be queued: {exc}")


def launch_run(
    revision,
    targets: list[dict],
    variables: dict,
    user,
    *,
    schedule: Schedule | None = None,
    rerun_of: Run | None = None,
    vdi_endpoint: str | None = None,
    pause_on: str | None = None,
    retries: int = 0,
    build: str | None = None,
) -> Run:
    """Create a queued Run of ``revision`` on ``targets`` and send it to its host's queue.

    A scenario of VDI-platform steps only needs no VM: with no target it runs once on the
    default queue. ``vdi_endpoint`` (a name) overrides the endpoint the scenario would use.
    ``retries`` (0-10, ``clean_retries``): new attempts after a lost worker, a launch option
    stored as ``Run.max_attempts``, never a scenario variable (``check_variables`` refuses the
    old ``run_retries`` one). ``build``: the build under test, the label the matrix page groups
    runs by (``clean_build``)."""
    from django.conf import settings

    from atp_site.celery import queue_for_host

    from .pausing import clean_pause_on

    variables = check_variables(dict(variables or {}))
    retries = clean_retries(retries)
    build = clean_build(build)
    pause_on = clean_pause_on(pause_on)
    if pause_on.startswith("step:"):
        from atp_core.orchestrator import load_scenario
        from atp_core.orchestrator.pause import PauseRule, check_step_exists
        from atp_core.orchestrator.plan import plan_steps

        ids = [p.id for p in plan_steps(load_scenario(revision.content))]
        check_step_exists(PauseRule.parse(pause_on), ids)
    endpoint = choose_vdi_endpoint(revision, vdi_endpoint)
    requested = list(targets or []) or _scenario_default_targets(revision)
    if not requested and needs_vm(revision):
        raise InvalidInput("no targets: choose VMs or a tag, or give the scenario default targets")
    resolved = resolve_targets(requested) if requested else []
    if requested and not resolved:
        raise InvalidInput(f"no VM matches the targets {requested!r}")
    vm_less = not resolved
    queue = (
        queue_for_host(resolved[0]["host"].name) if resolved else settings.CELERY_TASK_DEFAULT_QUEUE
    )
    scenario = revision.scenario
    with transaction.atomic():
        run = Run.objects.create(
            scenario=scenario,
            revision=revision,
            source=revision.content,
            name=scenario.name,
            targets=requested,
            variables=variables,
            launched_by=user if getattr(user, "is_authenticated", False) else None,
            queue=queue,
            max_attempts=1 + retries,
            rerun_of=rerun_of,
            schedule=schedule,
            schedule_name=schedule.name if schedule else "",
            vdi_endpoint=endpoint,
            pause_on=pause_on,
            build=build,
        )
        hosts = list({t["host"].pk: t["host"] for t in resolved}.values())
        parts = {}
        if len(hosts) > 1:  # one part per host, each on its host's worker
            parts = {
                h.pk: RunPart.objects.create(
                    run=run,
                    host=h,
                    host_name=h.name,
                    queue=queue_for_host(h.name),
                    queued_at=run.created,
                )
                for h in hosts
            }
        RunTarget.objects.bulk_create(
            RunTarget(
                run=run,
                ordinal=i,
                name=t["name"],
                vm=t["vm"],
                host=t["host"],
                vm_name=t["vm_name"],
                host_uri=t["host"].uri,
                part=parts.get(t["host"].pk),
            )
            for i, t in enumerate(resolved)
        )
        if vm_less:  # the engine's one branch of a VDI-only run, on no VM
            RunTarget.objects.create(run=run, ordinal=0, name=VM_LESS_TARGET, vm_name="")
        record_event(
            run,
            "queued",
            {
                "queue": run.queue,
                "targets": [t["name"] for t in resolved] or [VM_LESS_TARGET],
                **({"parts": [p.queue for p in parts.values()]} if parts else {}),
                "by": getattr(user, "username", "") or "",
                "schedule": schedule.name if schedule else "",
                "rerun_of": rerun_of.pk if rerun_of else None,
                "vdi_endpoint": endpoint,
                **({"pause_on": pause_on} if pause_on else {}),
                **({"build": build} if build else {}),
            },
        )
        transaction.on_commit(lambda: send_run(run))
    return run


def request_cancel(run: Run, user) -> Run:
    """Ask the worker to stop ``run``; a run still queued is cancelled at once."""
    who = getattr(user, "username", "") or "someone"
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.state == RunState.FINISHED:
            raise InvalidInput(f"run {run.pk} has already finished ({locked.result})")
        if locked.cancel_requested:
            return locked
        locked.cancel_requested = True
        locked.save(update_fields=["cancel_requested"])
        record_event(locked, "cancel_requested", {"by": who})
        queued = locked.state == RunState.QUEUED
        # parts not started yet (a run on several hosts): they end now, the running ones
        # see the flag through their watchers
        waiting = list(locked.parts.filter(state=RunState.QUEUED))
    if queued:
        lifecycle.finish(run.pk, Result.CANCELLED, f"cancelled by {who} before it started")
    else:
        for part in waiting:
            lifecycle.finish_part(
                part.pk, Result.CANCELLED, f"cancelled by {who} before it started"
            )
    for task_id in [locked.task_id if queued else ""] + [p.task_id for p in waiting]:
        if task_id:
            try:
                from atp_site.celery import app

                app.control.revoke(task_id)
            except Exception:  # the task checks the state when it starts anyway
                log.warning("run %s: revoke of queued task failed", run.pk, exc_info=True)
    run.refresh_from_db()
    return run


def rerun(run: Run, user) -> Run:
    """A new run of the same revision, targets and variables, linked to ``run``."""
    return launch_run(
        run.revision,
        list(run.targets or []),
        dict(run.variables or {}),
        user,
        rerun_of=run,
        vdi_endpoint=run.vdi_endpoint or None,
        pause_on=run.pause_on or None,
        retries=run.max_attempts - 1,
        build=run.build,
    )
