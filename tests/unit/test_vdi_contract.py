"""Contract: for every operation the client uses, the simulator's request and response bodies
(and the query parameters the client sends) validate against BOTH vendor documents."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from atp_core.vdiplatform import DomainStatus
from atp_core.vdiplatform.api import OPERATIONS

# The project's own copies of the vendor documents (where they come from: the README there).
VENDOR = Path(__file__).resolve().parents[1] / "fixtures" / "vendor"


@cache
def openapi_90() -> dict:
    return json.loads((VENDOR / "ocloudview-9.0-openapi.json").read_text())


@cache
def swagger_lab() -> dict:
    return json.loads((VENDOR / "ocloudview-lab-swagger.json").read_text())


def _validate_oas30(schema: dict, instance, where: str) -> list[str]:
    root = {**schema, "components": openapi_90()["components"]}
    validator = OAS30Validator(root, format_checker=oas30_format_checker)
    return [
        f"{where}: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(instance)
    ]


def _validate_swagger(schema: dict, instance, where: str) -> list[str]:
    root = {**schema, "definitions": swagger_lab()["definitions"]}
    validator = jsonschema.Draft4Validator(root, format_checker=jsonschema.FormatChecker())
    return [
        f"{where}: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(instance)
    ]


def check_record(record: dict) -> list[str]:
    """Every contract violation of one recorded exchange, against both documents."""
    method, template = record["method"].lower(), record["template"]
    problems: list[str] = []
    where = f"{record['method']} {template}"

    op = openapi_90()["paths"].get(template, {}).get(method)
    if op is None:
        problems.append(f"{where}: not in the 9.0 OpenAPI document")
    else:
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        problems += [
            f"{where}: query {k!r} not declared (9.0)" for k in record["query"] if k not in declared
        ]
        body_schema = (
            op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        )
        if record["request"] is not None:
            if body_schema is None:
                problems.append(f"{where}: sends a body the 9.0 document does not declare")
            else:
                problems += _validate_oas30(
                    body_schema, record["request"], where + " request (9.0)"
                )
        response_schema = op["responses"]["200"]["content"]["*/*"]["schema"]
        problems += _validate_oas30(response_schema, record["response"], where + " response (9.0)")

    op = swagger_lab()["paths"].get(template, {}).get(method)
    if op is None:
        problems.append(f"{where}: not in the lab swagger document")
    else:
        params = op.get("parameters", [])
        declared = {p["name"] for p in params if p["in"] == "query"}
        problems += [
            f"{where}: query {k!r} not declared (lab)" for k in record["query"] if k not in declared
        ]
        body = next((p for p in params if p["in"] == "body"), None)
        if record["request"] is not None:
            if body is None:
                problems.append(f"{where}: sends a body the lab document does not declare")
            else:
                problems += _validate_swagger(
                    body["schema"], record["request"], where + " request (lab)"
                )
        problems += _validate_swagger(
            op["responses"]["200"]["schema"], record["response"], where + " response (lab)"
        )
    return problems


def exercise_every_operation(client) -> None:
    """Drive the client through every operation in ``OPERATIONS``."""
    client.login()
    hosts = list(client.hosts.list(page_size=5))
    client.hosts.all()
    client.hosts.get(hosts[0].id)
    client.hosts.uptime(hosts[0].id)

    template = next(client.models.list())
    clone_event = client.models.clone(template.id, "contract-clone-", 1)
    client.events.wait(clone_event, 10)

    vms = list(client.domains.list(page_size=7))
    client.domains.get(vms[0].id)
    new_id = client.domains.create("contract-vm", cpu=2, memory_mb=2048)
    client.domains.list(
        keyword="contract", status=[DomainStatus.OFF], host_id=hosts[0].id
    ).__next__()
    for op, expected in (
        ("start", DomainStatus.RUNNING),
        ("suspend", DomainStatus.SUSPENDED),
        ("resume", DomainStatus.RUNNING),
        ("reboot", DomainStatus.RUNNING),
        ("sleep", DomainStatus.SLEEPING),
        ("wakeup", DomainStatus.RUNNING),
    ):
        result = getattr(client.domains, op)([new_id])
        client.events.wait_all(result.event_ids, 10)
        client.domains.wait_status(new_id, expected, 10)
    client.domains.close([new_id, "no-such-vm"], force=True, strict=False)  # with an errorList
    client.domains.wait_status(new_id, DomainStatus.OFF, 10)
    client.domains.sync_status(new_id)

    client.groups.tree()
    client.groups.create("contract", base="ou=atp")
    client.groups.get("ou=contract,ou=atp")
    client.users.create("carol", "ou=contract,ou=atp", password="Secret-123")
    list(client.users.list("ou=atp", keyword="carol"))
    client.users.get("carol")
    assert client.domains.bind_user([new_id, "no-such-vm"], "carol") == ["no-such-vm"]
    assert [d.id for d in client.users.domains("carol")] == [new_id]
    client.domains.unbind_user([new_id])
    client.users.delete("carol", "ou=contract,ou=atp")
    client.groups.delete("ou=contract,ou=atp")
    client.domains.delete([new_id])

    pool_event = client.desk_pools.create("contract-pool", 2, template.id, domain_prefix="cp-")
    client.events.wait(pool_event, 10)
    pool = client.desk_pools.find("contract-pool")
    client.desk_pools.domains(pool.id)
    client.desk_pools.disable(pool.id)
    client.desk_pools.enable(pool.id)
    client.events.wait(client.desk_pools.switch_model(pool.id, template.id), 10)
    client.desk_pools.delete(pool.id)
    list(client.events.list(page_size=50))
    client.logout()


def test_every_client_operation_matches_both_vendor_documents(vdisim_memory):
    client = vdisim_memory.client(timeout=10)
    exercise_every_operation(client)
    records = vdisim_memory.records()

    used = {(r["method"], r["template"]) for r in records}
    assert set(OPERATIONS) <= used, f"operations never exercised: {set(OPERATIONS) - used}"
    assert used <= set(OPERATIONS), f"client called undeclared operations: {used - set(OPERATIONS)}"
    problems = [p for r in records for p in check_record(r)]
    assert problems == [], "\n".join(problems[:30])
    assert len(records) > len(OPERATIONS)


def test_the_checker_catches_a_wrong_body():
    """The validator is not vacuous: the original Rust client's bodies fail it."""
    wrong_start = {
        "method": "POST",
        "template": "/ocloud/v1/domain/start",
        "query": {},
        "request": {"idList": "vm-1"},  # a string, not an array
        "response": {"status": 0, "msg": "ok", "data": {"eventIdList": "e-1"}},
    }
    problems = check_record(wrong_start)
    assert any("request (9.0)" in p for p in problems)
    assert any("response (lab)" in p for p in problems)
    wrong_domain = {
        "method": "GET",
        "template": "/ocloud/v1/domain",
        "query": {"deskpoolId": "x"},  # a filter that does not exist
        "request": None,
        "response": {"status": 0, "msg": "ok", "data": {"list": [{"status": "running"}]}},
    }
    problems = check_record(wrong_domain)
    assert any("query 'deskpoolId' not declared" in p for p in problems)
    assert any("response (9.0)" in p for p in problems)
