"""The Django-facing adapter around the engine's ``run_scenario``.

``execute(run_id, worker=...)`` turns a claimed (``running``) Run into engine inputs — one
``Target`` per RunTarget, ``VdiSettings`` of the VDI endpoint chosen at launch, the screen-check
references from ``scenarios.ReferenceImage``, a ``CancelToken`` fed by the run's
``cancel_requested`` flag — runs it with a ``RunEventSink``, keeps ``Run.heartbeat`` fresh
from a watcher thread, stores the JSON and JUnit reports as artifacts, and ends the run.

Whatever goes wrong outside the engine (scenario no longer loads, database hiccup, a bug
here) ends the run ``error`` with the reason: a worker never crashes on a run
and a run never stays ``running``.

``execute_part(part_id, worker=...)`` does the same for one part of a run on several hosts
(``RunPart``): the engine runs that host's targets only, into the run's one event stream (the
engine's own ``run_finished`` of the part is held back, not stored), the part ends through
``lifecycle.finish_part``, and the worker whose part ended the run writes the run's one report
from the stored rows (``runs.reports``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from atp_core import orchestrator
from atp_core.cancel import CancelToken
from atp_core.orchestrator.report import RunReport
from atp_core.status import BAD_STATUSES, Result, RunState
from atp_core.text import without_nul

from . import lifecycle
from .event_sink import RunEventSink
from .event_store import record_event
from .models import Artifact, Run, RunPart
from .pausing import EventPauser, pause_max
from .run_facts import record_target_facts

log = logging.getLogger(__name__)


class RunWatcher:
    """A thread that writes ``Run.heartbeat`` every ``interval`` seconds and polls
    ``cancel_requested`` every ``poll`` seconds, so engine threads never touch the database
    for it. ``cancelled`` is what the engine's CancelToken polls."""

    def __init__(
        self,
        run_id: int,
        *,
        interval: float | None = None,
        poll: float = 0.5,
        part_id: int | None = None,
        attempt: int | None = None,
    ):
        self.run_id = run_id
        self.part_id = part_id  # a part of a run on several hosts: its heartbeat and its end
        self.attempt = attempt  # the part's attempt this worker runs (a later one stops it)
        self.interval = interval or float(getattr(settings, "ATP_HEARTBEAT_INTERVAL", 5))
        self.poll = poll
        self._cancel = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"run-{run_id}-watch", daemon=True)
        self.beats = 0
        self.ended_elsewhere = False

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def start(self) -> RunWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        import time

        next_beat = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                try:
                    if now >= next_beat:
                        if self.part_id is None:
                            lifecycle.heartbeat(self.run_id)
                        else:
                            lifecycle.heartbeat_part(self.part_id, self.attempt)
                        self.beats += 1
                        next_beat = now + self.interval
                    row = (
                        Run.objects.filter(pk=self.run_id)
                        .values_list("cancel_requested", "state")
                        .first()
                    )
                    if row is not None and self.part_id is not None and not row[0]:
                        part_row = (
                            RunPart.objects.filter(pk=self.part_id)
                            .values_list("state", "attempt")
                            .first()
                        )
                        # the part was reaped, or started again as a later attempt elsewhere
                        over = part_row is None or part_row[0] == RunState.FINISHED
                        if over or self.attempt not in (None, part_row[1]):
                            row = (row[0], RunState.FINISHED)
                    # cancel asked, or the run was ended elsewhere (reaped while this worker
                    # was cut off, cancel escalated, deleted): stop the engine
                    if row is None or row[0] or row[1] == RunState.FINISHED:
                        self.ended_elsewhere = row is None or (
                            row[1] == RunState.FINISHED and not row[0]
                        )
                        self._cancel.set()
                except Exception:  # database away for a moment: try again next tick
                    log.warning("run %s: heartbeat/cancel poll failed", self.run_id, exc_info=True)
                    connection.close()
                self._stop.wait(self.poll)
        finally:
            connection.close()


# ---------------------------------------------------------------------------- engine inputs


def build_targets(run: Run, part: RunPart | None = None) -> list:
    """The engine's targets of ``run`` (of ``part`` only, for a part)."""
    from atp_core.orchestrator import Target

    targets = []
    rows = part.targets if part is not None else run.run_targets
    for rt in rows.select_related("host").order_by("ordinal"):
        if not rt.host_id and not rt.host_uri and not rt.vm_name:
            # a VDI-only run: the engine's branch on no VM
            targets.append(Target(name=rt.name, host_uri="", vm="", host_name=""))
            continue
        uri = rt.host.uri if rt.host_id else rt.host_uri
        if not uri:
            raise ValueError(f"target {rt.name}: its host has no libvirt URI")
        targets.append(
            Target(
                name=rt.name,
                host_uri=uri,
                vm=rt.vm_name,
                host_name=rt.host.name if rt.host_id else rt.name.split("/", 1)[0],
            )
        )
    if not targets:
        raise ValueError("the run has no targets")
    return targets


def shared_connections(run: Run, part: RunPart | None = None):
    """``host URI -> connection`` from this process's TransportManager (hosts/connections.py)
    for the run's hosts (``part``'s only): a run uses the worker's kept-alive connections."""
    from hosts.connections import ensure_host, transport

    rows = part.targets if part is not None else run.run_targets
    names = {
        rt.host.uri: ensure_host(rt.host)
        for rt in rows.select_related("host")
        if rt.host_id and rt.host.uri
    }

    def connection(uri: str):
        name = names.get(uri)
        return transport().connection(name) if name else None

    return connection


def build_vdi(run: Run | None = None):
    """VdiSettings (password decrypted) of the run's VDI endpoint, chosen at launch; a run from
    before that choice existed gets the first enabled endpoint. None: no endpoint."""
    from hosts.models import VdiEndpoint

    name = run.vdi_endpoint if run is not None else ""
    if name:
        endpoint = VdiEndpoint.objects.filter(name=name).first()
        if endpoint is None:
            raise ValueError(f"the run's VDI endpoint {name!r} no longer exists")
        if not endpoint.enabled:
            raise ValueError(f"the run's VDI endpoint {name!r} is disabled")
    else:
        endpoint = VdiEndpoint.objects.filter(enabled=True).order_by("pk").first()
    if endpoint is None:
        return None
    from atp_core.orchestrator import VdiSettings

    return VdiSettings(
        url=endpoint.url,
        username=endpoint.username,
        password=endpoint.get_password(),
        verify_tls=endpoint.verify_tls,
    )


def build_references() -> dict[str, Any]:
    """``{name: [ReferenceSpec, ...]}`` of every stored reference: its own image (labelled with
    the name) first, then its candidates (labelled with theirs); a check passes when any
    matches and the step's output names the one that did.

    ``areas`` are the ``match`` areas as (x, y, w, h); the ``exclude`` areas (a clock, a
    cursor) are left out of the comparison by the engine. A candidate without areas of its own
    uses the reference's.
    """
    from atp_core.orchestrator import ReferenceSpec
    from scenarios.models import ReferenceImage

    def boxes(areas: list) -> tuple[list, list]:
        match, exclude = [], []
        for area in areas or []:
            box = (int(area["x"]), int(area["y"]), int(area["width"]), int(area["height"]))
            (exclude if area.get("type") == "exclude" else match).append(box)
        return match, exclude

    def path_of(image) -> str | None:
        if not image:
            return None
        try:
            return image.path
        except NotImplementedError:  # remote storage: not supported by the engine
            return None

    refs: dict[str, Any] = {}
    for ref in ReferenceImage.objects.prefetch_related("candidates"):
        specs = []
        own = path_of(ref.image)
        if own is not None:
            match, exclude = boxes(ref.areas)
            specs.append(
                ReferenceSpec(
                    path=own, areas=match, threshold=ref.threshold, exclude=exclude, label=ref.name
                )
            )
        for candidate in ref.candidates.all():
            path = path_of(candidate.image)
            if path is None:
                continue
            match, exclude = boxes(candidate.areas or ref.areas)
            specs.append(
                ReferenceSpec(
                    path=path,
                    areas=match,
                    threshold=ref.threshold,
                    exclude=exclude,
                    label=candidate.label,
                )
            )
        if specs:
            refs[ref.name] = specs
    return refs


# ---------------------------------------------------------------------------- the run


def build_secrets() -> dict[str, str]:
    """The scenario secrets (``${secret.NAME}``), decrypted for this run only."""
    from scenarios.secrets import values_for_run

    return values_for_run()


def build_env() -> dict[str, str]:
    """``${env.NAME}``: only the worker's variables named in ATP_SCENARIO_ENV_ALLOW."""
    import os

    names = getattr(settings, "ATP_SCENARIO_ENV_ALLOW", [])
    return {name: os.environ[name] for name in names if name in os.environ}


def _store_report(run: Run, name: str, content: str, mime: str) -> Artifact:
    artifact = Artifact(run=run, name=name, kind="report", mime=mime)
    artifact.file.save(f"run{run.pk}-{name}", ContentFile(content.encode("utf-8")), save=False)
    artifact.size = artifact.file.size
    artifact.save()
    return artifact


def execute(run_id: int, *, worker: str = "") -> str:
    """Run a claimed run to its end; returns the result. Never raises."""
    run = Run.objects.select_related("revision", "scenario").get(pk=run_id)
    record_event(run_id, "worker_started", {"worker": worker, "attempt": run.attempt})
    watcher = RunWatcher(run_id).start()
    sink = RunEventSink(run_id, hold=("run_finished",))
    artifact_dir = Path(tempfile.mkdtemp(prefix=f"atp-run{run_id}-"))
    try:
        return _execute(run, sink, watcher, artifact_dir)
    except Exception as exc:
        log.exception("run %s: failed outside the engine", run_id)
        reason = without_nul(f"{type(exc).__name__}: {exc}".strip())
        try:
            sink.close()
        except Exception:
            log.exception("run %s: event sink close failed", run_id)
        try:
            lifecycle.finish(run_id, Result.ERROR, reason)
        except Exception:
            log.exception("run %s: could not record the error", run_id)
            lifecycle.finish_bare(run_id, Result.ERROR, reason)
        return Result.ERROR
    finally:
        watcher.stop()
        sink.close()
        shutil.rmtree(artifact_dir, ignore_errors=True)


def _execute(
    run: Run,
    sink: RunEventSink,
    watcher: RunWatcher,
    artifact_dir: Path,
    part: RunPart | None = None,
) -> str:
    scenario = orchestrator.load_scenario(run.source, filename=f"{run.name}.yaml")
    targets = build_targets(run, part)
    record_target_facts(run, part.targets if part is not None else None)
    kwargs: dict[str, Any] = {
        "sink": sink,
        "variables": dict(run.variables or {}),
        "cancel": CancelToken(poll=watcher.cancelled, poll_interval=0.25),
        "run_id": str(run.pk),
        "artifact_dir": artifact_dir,
        "vdi": build_vdi(run),
        "references": build_references(),
        "secrets": build_secrets(),
        "env_allowed": build_env(),
        "pause_on": run.pause_on or None,
        "pauser": EventPauser(run.pk, references=build_references),
        "pause_max": pause_max(),
        "video": bool(getattr(settings, "ATP_VIDEO", True)),
        "connections": shared_connections(run, part),
    }
    max_parallel = getattr(settings, "ATP_RUN_MAX_PARALLEL", None)
    if max_parallel:
        kwargs["max_parallel"] = int(max_parallel)

    report: RunReport = orchestrator.run_scenario(scenario, targets, **kwargs)

    sink.flush()
    result = report.result
    totals = dict(report.totals)
    if part is not None:
        return _end_part(run, part, sink, watcher, report)
    for name, render, mime in (
        ("report.json", report.to_json, "application/json"),
        ("junit.xml", report.to_junit_xml, "application/xml"),
    ):
        try:
            _store_report(run, name, render(), mime)
        except Exception:
            log.exception("run %s: %s could not be written", run.pk, name)
    reason = ""
    if result == Result.CANCELLED:
        reason = "cancelled on request" if watcher.cancelled() else "cancelled"
    elif result in (Result.ERROR, Result.TIMED_OUT):
        reason = report.error or _first_error(report) or result.replace("_", " ")
    held = [e for e in sink.held if e.type == "run_finished"]
    data = dict(held[-1].to_dict()["data"]) if held else {}
    data.update(result=result, totals=totals, duration=report.duration)

    def end() -> None:  # in the sink's writer, behind every event of the run
        if not lifecycle.finish(run.pk, result, reason, data=data, close_open=False):
            # ended elsewhere (reaped while cut off, cancel escalated): its end stands
            record_event(run.pk, "worker_stopped", {"engine_result": result, "worker": run.worker})

    sink.call_last(end)
    sink.close()
    ended = Run.objects.filter(pk=run.pk).values_list("state", "result").first()
    if ended is None:
        log.warning("run %s was deleted while it ran", run.pk)
        return Result.ERROR
    if ended[0] != RunState.FINISHED:  # the writer gave up: the reaper ends it
        return result
    return ended[1] or Result.ERROR


def execute_part(part_id: int, *, worker: str = "") -> str:
    """Run a claimed part of a run on several hosts to its end; returns the part's result.
    Never raises."""
    part = RunPart.objects.select_related("run__revision", "run__scenario").get(pk=part_id)
    run = part.run
    record_event(
        run.pk,
        "worker_started",
        {
            "worker": worker,
            "attempt": run.attempt,
            "host": part.host_name,
            "part_attempt": part.attempt,
        },
    )
    watcher = RunWatcher(run.pk, part_id=part_id, attempt=part.attempt).start()
    sink = RunEventSink(run.pk, hold=("run_finished",))
    artifact_dir = Path(tempfile.mkdtemp(prefix=f"atp-run{run.pk}-{part.host_name}-"))
    try:
        return _execute(run, sink, watcher, artifact_dir, part)
    except Exception as exc:
        log.exception("run %s part %s: failed outside the engine", run.pk, part.host_name)
        reason = without_nul(f"{type(exc).__name__}: {exc}".strip())
        try:
            sink.close()
        except Exception:
            log.exception("run %s: event sink close failed", run.pk)
        try:
            ended = lifecycle.finish_part(part_id, Result.ERROR, reason, attempt=part.attempt)
            if ended == lifecycle.RUN_ENDED:
                store_run_reports(run.pk)
        except Exception:
            log.exception("run %s: could not record the part's error", run.pk)
        return Result.ERROR
    finally:
        watcher.stop()
        sink.close()
        shutil.rmtree(artifact_dir, ignore_errors=True)


def _end_part(
    run: Run, part: RunPart, sink: RunEventSink, watcher: RunWatcher, report: RunReport
) -> str:
    """End ``part`` behind its events; the part that ends the run writes the run's report."""
    result = report.result
    reason = ""
    if result == Result.CANCELLED:
        reason = "cancelled on request" if watcher.cancelled() else "cancelled"
    elif result in (Result.ERROR, Result.TIMED_OUT):
        reason = report.error or _first_error(report) or result.replace("_", " ")
    data = {"result": result, "totals": dict(report.totals), "duration": report.duration}
    outcome: list[str] = []

    def end() -> None:  # in the sink's writer, behind every event of the part
        ended = lifecycle.finish_part(
            part.pk, result, reason, data=data, close_open=False, attempt=part.attempt
        )
        outcome.append(ended)
        if not ended:
            record_event(
                run.pk,
                "worker_stopped",
                {"engine_result": result, "worker": part.worker, "host": part.host_name},
            )

    sink.call_last(end)
    sink.close()
    if outcome and outcome[0] == lifecycle.RUN_ENDED:
        store_run_reports(run.pk)
    return result


def store_run_reports(run_id: int) -> None:
    """The run's one ``report.json`` and ``junit.xml``, built from its stored rows (a run on
    several hosts: after its last part ended)."""
    from .reports import build_report
    from .selectors import run_detail

    run = Run.objects.get(pk=run_id)
    try:
        report = build_report(run_detail(run_id))
    except Exception:
        log.exception("run %s: report could not be built", run_id)
        return
    for name, render, mime in (
        ("report.json", report.to_json, "application/json"),
        ("junit.xml", report.to_junit_xml, "application/xml"),
    ):
        try:
            _store_report(run, name, render(), mime)
        except Exception:
            log.exception("run %s: %s could not be written", run_id, name)


def _first_error(report: RunReport) -> str:
    for target in report.targets:
        for step in target.steps:
            if step.status in BAD_STATUSES and step.error:
                return f"{target.name} step {step.id}: {step.error}"[:2000]
    return ""
