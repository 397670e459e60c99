"""VDI platform steps through a ``VdiClient`` per run (``VdiSettings``)."""

from __future__ import annotations

import re
from typing import Any

from atp_core.errors import CheckFailed, InvalidInput

from .. import schema
from ..polling import Polling, poll_until
from ..runtime import StepCall, StepError
from .registry import handles

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _left(call: StepCall) -> float:
    return max(1.0, call.remaining() - 0.5)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def domain_ids(call: StepCall, value: Any) -> list[str]:
    """VM ids from ids, names, captured VM records (dicts with ``id``) or a list of those."""
    vdi = call.vdi()
    ids = []
    for item in _as_list(value):
        if isinstance(item, dict):
            if not item.get("id"):
                raise InvalidInput(f"VM record without an id: {item!r}")
            ids.append(str(item["id"]))
            continue
        text = str(item)
        if UUID.match(text):
            ids.append(text)
            continue
        found = vdi.domains.find(text)
        if found is None:
            ids.append(text)  # the platform names unknown ids in its answer
        else:
            ids.append(found.id)
    if not ids:
        raise InvalidInput("no VM given")
    return ids


def pool_id(call: StepCall, value: Any) -> str:
    if isinstance(value, dict):
        if not value.get("id"):
            raise InvalidInput(f"desk pool record without an id: {value!r}")
        return str(value["id"])
    text = str(value)
    found = call.vdi().desk_pools.find(text)
    return found.id if found is not None else text


@handles(schema.VdiLogin)
def vdi_login(call: StepCall) -> None:
    run = call.branch.run
    username, password = call.args.get("username"), call.args.get("password")
    if username:
        from atp_core.vdiplatform import VdiClient

        if run.vdi_settings is None:
            raise InvalidInput("vdi_login: the run has no VDI endpoint URL")
        client = VdiClient(
            run.vdi_settings.url,
            str(username),
            str(password or ""),
            verify_ssl=run.vdi_settings.verify_tls,
            cancel=run.root,
        )
        with run._lock:
            old, run._vdi = run._vdi, client
        if old is not None:
            old.close()
    info = call.vdi().login()
    call.value = {"username": info.username, "role_level": info.role_level}
    call.say(f"logged in as {info.username}")


def _batch(call: StepCall, op: str, **extra: Any) -> None:
    vdi = call.vdi()
    ids = domain_ids(call, call.args["domain"])
    result = getattr(vdi.domains, op)(ids, strict=False, **extra)
    refused = [f"{e.domain_name or e.domain_id}: {e.message}" for e in result.errors]
    call.value = {"event_ids": list(result.event_ids), "errors": refused, "ids": ids}
    if refused:
        raise StepError(f"the platform refused {op} for " + "; ".join(refused))
    if call.args.get("wait") and result.event_ids:
        vdi.events.wait_all(result.event_ids, timeout=_left(call))
        call.say(f"{op}: {len(ids)} VM(s) done")
    else:
        call.say(f"{op}: {len(ids)} VM(s) requested")


@handles(schema.VdiStartDomain)
def vdi_start_domain(call: StepCall) -> None:
    _batch(call, "start")


@handles(schema.VdiShutdownDomain)
def vdi_shutdown_domain(call: StepCall) -> None:
    _batch(call, "close", force=bool(call.args.get("force")))


@handles(schema.VdiRebootDomain)
def vdi_reboot_domain(call: StepCall) -> None:
    _batch(call, "reboot")


@handles(schema.VdiSuspendDomain)
def vdi_suspend_domain(call: StepCall) -> None:
    _batch(call, "suspend")


@handles(schema.VdiResumeDomain)
def vdi_resume_domain(call: StepCall) -> None:
    _batch(call, "resume")


@handles(schema.VdiDeleteDomain)
def vdi_delete_domain(call: StepCall) -> None:
    ids = domain_ids(call, call.args["domain"])
    call.vdi().domains.delete(ids)
    call.value = {"ids": ids}
    call.say(f"deleted {len(ids)} VM(s)")


@handles(schema.VdiCreateDeskPool)
def vdi_create_desk_pool(call: StepCall) -> None:
    from atp_core.vdiplatform import DeskPoolType

    vdi = call.vdi()
    template = call.args["template"]
    if isinstance(template, dict):
        model_id = str(template.get("id") or "")
    elif UUID.match(str(template)):
        model_id = str(template)
    else:
        found = vdi.models.find(str(template))
        if found is None:
            raise InvalidInput(f"no template (model) called {template!r} on the platform")
        model_id = found.id
    name = str(call.args["name"])
    pool_type = DeskPoolType[str(call.args.get("pool_type") or "dedicated").upper()]
    event = vdi.desk_pools.create(
        name,
        int(call.args.get("count") or 1),
        model_id,
        type=pool_type,
        domain_prefix=call.args.get("prefix"),
        remark=call.args.get("remark"),
    )
    if event:
        vdi.events.wait(event, timeout=_left(call))
    pool = vdi.desk_pools.find(name)
    if pool is None:
        raise StepError(f"desk pool {name!r} was created but the platform does not list it")
    call.value = dict(pool.raw)
    call.say(f"desk pool {name} ({pool.id}) with {pool.amount} VM(s)")


@handles(schema.VdiEnableDeskPool)
def vdi_enable_desk_pool(call: StepCall) -> None:
    call.vdi().desk_pools.enable(pool_id(call, call.args["pool"]))


@handles(schema.VdiDisableDeskPool)
def vdi_disable_desk_pool(call: StepCall) -> None:
    call.vdi().desk_pools.disable(pool_id(call, call.args["pool"]))


@handles(schema.VdiDeleteDeskPool)
def vdi_delete_desk_pool(call: StepCall) -> None:
    pid = pool_id(call, call.args["pool"])
    call.vdi().desk_pools.delete(pid)
    call.say(f"deleted desk pool {pid}")


@handles(schema.VdiGetDeskPoolDomains)
def vdi_get_desk_pool_domains(call: StepCall) -> None:
    domains = call.vdi().desk_pools.domains(pool_id(call, call.args["pool"]))
    call.value = [dict(d.raw) for d in domains]
    call.say(", ".join(d.name for d in domains) or "no VMs")


@handles(schema.VdiBindUser)
def vdi_bind_user(call: StepCall) -> None:
    ids = domain_ids(call, call.args["domain"])
    not_bound = call.vdi().domains.bind_user(ids, str(call.args["user"]))
    call.value = {"not_bound": not_bound}
    if not_bound:
        raise StepError(f"the platform did not bind {call.args['user']!r} to {not_bound}")


def _status_label(status: Any) -> str:
    label = getattr(status, "label", None)
    return label if label else str(status)


def _poll(call: StepCall, read, done, describe) -> None:
    interval = float(call.args.get("interval") or 1.0)
    value = None

    def attempt(_polling: Polling) -> bool | None:
        nonlocal value
        value = read()
        return True if done(value) else None

    reached, _ = poll_until(call, attempt, interval=interval, margin=0.5)
    if not reached:
        raise CheckFailed(f"after {call.timeout:g} s: {describe(value)}")
    call.say(describe(value))


@handles(schema.VerifyVdiDomainStatus)
def verify_vdi_domain_status(call: StepCall) -> None:
    vdi = call.vdi()
    (vm_id,) = domain_ids(call, call.args["domain"])[:1]
    expected = str(call.args["expected"]).strip().lower().replace("_", " ")
    _poll(
        call,
        lambda: vdi.domains.get(vm_id),
        lambda d: _status_label(d.status) == expected,
        lambda d: f"{d.name} is {_status_label(d.status)} (expected {expected})",
    )


@handles(schema.VerifyVdiDomainsRunning)
def verify_vdi_domains_running(call: StepCall) -> None:
    vdi = call.vdi()
    pid = pool_id(call, call.args["pool"])

    def describe(domains: list) -> str:
        if not domains:
            return "the pool has no VMs"
        return ", ".join(f"{d.name}={_status_label(d.status)}" for d in domains)

    _poll(
        call,
        lambda: vdi.desk_pools.domains(pid),
        lambda ds: bool(ds) and all(_status_label(d.status) == "running" for d in ds),
        describe,
    )
