"""Run rows for the run-page tests: a scenario, runs through the real event sink, or in bulk."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from django.utils import timezone

from hosts.models import Host, VirtualMachine
from runs.models import Artifact, Run, RunTarget, StepResult
from scenarios.models import Scenario, ScenarioRevision

TEXT = """version: 1
name: {name}
targets: [{{vm: demo-1, host: local}}]
steps:
  - guest_ping: {{}}
  - name: type hello
    type: type_text
    text: hello
  - screenshot: {{name: desk}}
"""

PLAN = [
    {"id": "1", "name": "guest ping", "type": "guest_ping", "depth": 0, "phase": "main"},
    {"id": "2", "name": "type hello", "type": "type_text", "depth": 0, "phase": "main"},
    {"id": "3", "name": "screenshot", "type": "screenshot", "depth": 0, "phase": "main"},
]


def png_bytes(color=(40, 90, 160), size=(64, 40)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def scenario(name: str = "demo", author=None) -> tuple[Scenario, ScenarioRevision]:
    text = TEXT.format(name=name)
    sc, _ = Scenario.objects.get_or_create(name=name, defaults={"created_by": author})
    rev = sc.revisions.first()
    if rev is None:
        rev = ScenarioRevision.objects.create(
            scenario=sc,
            number=1,
            content=text,
            content_sha256=hashlib.sha256(text.encode()).hexdigest(),
            author=author,
        )
        sc.current_revision = rev
        sc.save()
    return sc, rev


def host_and_vm(host_name: str = "local", vm_name: str = "demo-1"):
    host, _ = Host.objects.get_or_create(name=host_name, defaults={"uri": "test:///default"})
    vm, _ = VirtualMachine.objects.get_or_create(host=host, name=vm_name)
    return host, vm


def new_run(sc, rev, user=None, *, targets=(("local", "demo-1"),), **fields) -> Run:
    run = Run.objects.create(
        scenario=sc,
        revision=rev,
        source=rev.content,
        name=sc.name,
        launched_by=user,
        queue="host.local",
        targets=[{"vm": vm, "host": host} for host, vm in targets],
        **fields,
    )
    for i, (host_name, vm_name) in enumerate(targets):
        host, vm = host_and_vm(host_name, vm_name)
        RunTarget.objects.create(
            run=run, name=f"{host_name}/{vm_name}", host=host, vm=vm, vm_name=vm_name, ordinal=i
        )
    return run


def emit(run: Run, type_: str, data: dict | None = None, target: str = "", step_id: str = ""):
    """Store one event through the real sink path (next seq, projection); ``run_finished``
    ends the run as the worker does (``runs.lifecycle.finish``)."""
    from runs import lifecycle
    from runs.event_store import record_event

    if type_ == "run_finished":
        data = data or {}
        return lifecycle.finish(run.pk, data.get("result"), data=data, close_open=False)
    return record_event(run, type_, data or {}, target=target, step_id=step_id)


def play(
    run: Run,
    statuses=("passed", "passed", "passed"),
    *,
    upto: str = "end",
    shot=True,
    emit_fn=None,
):
    """Events of a 3-step run on its first target; ``upto``: ``"started"`` (after step 1
    started, with a log line), ``"step2"`` (steps 1 done, 2 running), or ``"end"``."""
    send = emit_fn or emit
    target = run.run_targets.order_by("ordinal").first().name
    emit(
        run,
        "run_started",
        {"run_id": str(run.pk), "scenario": run.name, "targets": [target], "plan": PLAN},
    )
    Run.objects.filter(pk=run.pk).update(state="running", started=timezone.now())
    send(run, "target_started", {}, target)
    emit(
        run,
        "step_started",
        {"name": "guest ping", "type": "guest_ping", "attempt": 1, "iteration": None},
        target,
        "1",
    )
    send(run, "step_log", {"level": "info", "message": "agent answered"}, target, "1")
    if upto == "started":
        return
    emit(
        run,
        "step_finished",
        {
            "name": "guest ping",
            "type": "guest_ping",
            "status": statuses[0],
            "duration": 0.4,
            "error": "" if statuses[0] == "passed" else "no answer",
            "output": "pong",
            "iteration": None,
        },
        target,
        "1",
    )
    emit(
        run,
        "step_started",
        {"name": "type hello", "type": "type_text", "attempt": 1, "iteration": None},
        target,
        "2",
    )
    send(run, "step_output", {"stream": "stdout", "text": "typed 5 chars"}, target, "2")
    if upto == "step2":
        return
    emit(
        run,
        "step_finished",
        {
            "name": "type hello",
            "type": "type_text",
            "status": statuses[1],
            "duration": 2.5,
            "error": "" if statuses[1] == "passed" else "text not seen",
            "output": "",
            "iteration": None,
        },
        target,
        "2",
    )
    emit(
        run,
        "step_started",
        {"name": "screenshot", "type": "screenshot", "attempt": 1, "iteration": None},
        target,
        "3",
    )
    if shot:
        art = add_artifact(run, target, "3", "desk.png")
        emit(
            run,
            "artifact",
            {"artifact_id": art.pk, "name": art.name, "kind": "screenshot", "mime": "image/png"},
            target,
            "3",
        )
    emit(
        run,
        "step_finished",
        {
            "name": "screenshot",
            "type": "screenshot",
            "status": statuses[2],
            "duration": 0.2,
            "error": "",
            "output": "",
            "iteration": None,
        },
        target,
        "3",
    )
    result = "passed" if all(s == "passed" for s in statuses) else "failed"
    send(run, "target_finished", {"result": result, "duration": 3.1, "totals": {}}, target)
    emit(
        run,
        "run_finished",
        {
            "result": result,
            "duration": 3.2,
            "totals": {s: statuses.count(s) for s in set(statuses)},
        },
    )
    Run.objects.filter(pk=run.pk).update(finished=timezone.now())
    run.refresh_from_db()


def add_artifact(run: Run, target_name: str, step_id: str, name: str) -> Artifact:
    from django.core.files.base import ContentFile

    art = Artifact(
        run=run,
        target=run.run_targets.get(name=target_name),
        step_id=step_id,
        name=name,
        kind="screenshot",
        mime="image/png",
    )
    data = png_bytes()
    art.file.save(f"run{run.pk}-{name}", ContentFile(data), save=False)
    art.size = len(data)
    art.save()
    return art


def bulk_runs(count: int, sc, rev, user, *, host=None, days: int = 14) -> None:
    """``count`` finished runs (targets and three steps each, a mix of results), made in
    bulk: fast enough for the 500-run query-count tests."""
    host = host or host_and_vm()[0]
    now = timezone.now()
    runs = []
    for i in range(count):
        created = now - dt.timedelta(hours=(i * 7) % (days * 24))
        result = "failed" if i % 5 == 0 else "passed"
        runs.append(
            Run(
                scenario=sc,
                revision=rev,
                source=rev.content,
                name=sc.name,
                launched_by=user,
                state="finished",
                result=result,
                created=created,
                started=created,
                finished=created + dt.timedelta(seconds=30),
                totals={
                    "passed": 3 if result == "passed" else 2,
                    "failed": 0 if result == "passed" else 1,
                },
                last_seq=12,
            )
        )
    runs = Run.objects.bulk_create(runs)
    # auto_now_add overwrote created: put the spread back
    for r, i in zip(runs, range(count), strict=True):
        r.created = now - dt.timedelta(hours=(i * 7) % (days * 24))
    Run.objects.bulk_update(runs, ["created"])
    targets = RunTarget.objects.bulk_create(
        [
            RunTarget(
                run=r,
                name=f"{host.name}/demo-1",
                host=host,
                vm_name="demo-1",
                state="finished",
                result=r.result,
            )
            for r in runs
        ]
    )
    StepResult.objects.bulk_create(
        [
            StepResult(
                run=t.run,
                target=t,
                step_id=p["id"],
                ordinal=j,
                name=p["name"],
                type=p["type"],
                status="failed" if (t.run.result == "failed" and j == 1) else "passed",
                duration=1.0,
            )
            for t in targets
            for j, p in enumerate(PLAN)
        ]
    )


LOOP_PLAN = [
    {"id": "1", "name": "repeat", "type": "loop", "depth": 0, "phase": "main"},
    {
        "id": "1.1",
        "name": "echo ${loop.index}",
        "type": "exec_command",
        "depth": 1,
        "phase": "main",
    },
    {"id": "F1", "name": "cleanup", "type": "exec_command", "depth": 0, "phase": "finally"},
]


def play_loop(run: Run, emit_fn=None, *, iterations: int = 2) -> None:
    """A loop step whose child (planned as ``echo ${loop.index}``, started as ``echo 0``,
    ``echo 1``, ... as the engine renders names) runs ``iterations`` times, each with its own
    log line, then a finally step; the run stays running (no run_finished)."""
    send = emit_fn or emit
    target = run.run_targets.order_by("ordinal").first().name
    send(
        run,
        "run_started",
        {"run_id": str(run.pk), "scenario": run.name, "targets": [target], "plan": LOOP_PLAN},
    )
    send(run, "step_started", {"name": "repeat", "attempt": 1, "iteration": None}, target, "1")
    for i in range(iterations):
        send(
            run, "step_started", {"name": f"echo {i}", "attempt": 1, "iteration": i}, target, "1.1"
        )
        send(run, "step_log", {"level": "info", "message": f"round {i}"}, target, "1.1")
        send(
            run,
            "step_finished",
            {
                "status": "passed",
                "duration": 0.1,
                "error": "",
                "output": f"out {i}",
                "iteration": i,
            },
            target,
            "1.1",
        )
    send(
        run, "step_finished", {"status": "passed", "duration": 0.3, "iteration": None}, target, "1"
    )
    send(run, "step_started", {"name": "cleanup", "attempt": 1, "iteration": None}, target, "F1")


def measured_run(
    name: str,
    *,
    host: str = "local",
    vms=("demo-1",),
    inputs=(),
    logons=(),
    finished=None,
    user=None,
    result: str = "passed",
) -> Run:
    """A finished run whose step rows carry measured metrics, as the sink stores them.
    ``inputs``: (step id, action kind, [latency s per iteration], max_latency s or None);
    ``logons``: {phase: seconds} per logon step (``total`` is their sum), the n-th on the n-th
    of ``vms`` when there are several (inputs go to the first)."""
    sc, rev = scenario(name, user)
    finished = finished or timezone.now()
    run = new_run(sc, rev, user, targets=tuple((host, vm) for vm in vms))
    Run.objects.filter(pk=run.pk).update(
        state="finished", result=result, started=finished - dt.timedelta(minutes=1),
        finished=finished,
    )  # fmt: skip
    targets = list(run.run_targets.order_by("ordinal"))
    target = targets[0]
    RunTarget.objects.filter(run=run).update(
        state="finished", result=result, started=finished - dt.timedelta(minutes=1),
        finished=finished,
    )  # fmt: skip
    ordinal = 0
    for step_id, kind, latencies, limit in inputs:
        ordinal += 1
        loop = len(latencies) > 1
        for i, seconds in enumerate(latencies):
            metrics = {"action": kind, "latency": seconds, "latency_to": "first display update"}
            if limit is not None:
                metrics["max_latency"] = limit
            StepResult.objects.create(
                run=run, target=target, step_id=step_id, iteration=i if loop else -1,
                ordinal=ordinal, name=f"{kind} {step_id}", type="send_key", status="passed",
                duration=0.3, metrics=metrics, started=finished, finished=finished,
            )  # fmt: skip
    for n, phases in enumerate(logons):
        ordinal += 1
        metrics = {f"logon.{p}": v for p, v in phases.items()}
        metrics["logon.total"] = round(sum(phases.values()), 3)
        StepResult.objects.create(
            run=run, target=targets[n % len(targets)], step_id=f"L{n + 1}", ordinal=ordinal,
            name="log on", type="logon", status="passed", duration=metrics["logon.total"],
            metrics=metrics, started=finished, finished=finished,
        )  # fmt: skip
    return run
