"""The executor: runs a scenario on targets, one branch per target, and reports every step.

``run_scenario`` never raises for problems of the scenario or the infrastructure: each ends as a
step status in the report and in the events handed to ``sink``. Control flow per target:

- steps run in order; a ``failed``/``error`` step stops the target unless ``continue_on_error``;
  the remaining planned steps are reported ``skipped``; ``finally`` always runs;
- each attempt has a deadline (the step's ``timeout``, else the kind's default, else
  ``defaults.timeout``); ``retries`` re-attempt after ``retry_delay``;
- the scenario's ``timeout`` bounds the main steps of each target (result ``timed_out``);
- the cancel token is checked between steps and inside every wait and poll (result
  ``cancelled``); teardown (``finally``, a group's ``finally``) still runs after a cancel.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atp_core.cancel import CancelToken
from atp_core.errors import AtpError, Cancelled, CheckFailed, InvalidInput
from atp_core.protocol.qga import ExecTimeout
from atp_core.status import BAD_STATUSES, Result, StepStatus, combine_results, worst_status

from .events import EventEmitter, Sink
from .masking import Masker
from .pause import Decision, PauseBudget, Pauser, PauseRule, wait_for_decision
from .plan import PlannedStep, as_scenario, plan_steps, step_name
from .report import RunReport, StepReport, TargetReport
from .runtime import ReferenceSpec, ScopeToken, StepCall, Target, VdiSettings
from .schema import CONTAINER_KINDS
from .steps import HANDLERS
from .variables import Variables, to_text

if TYPE_CHECKING:
    from atp_core.transport import HostConnection

log = logging.getLogger(__name__)

# fields of a ``sensitive`` step that are not its text (masking their values would hide
# step kinds, names and VM names everywhere)
NOT_SENSITIVE_FIELDS = frozenset(
    {"type", "name", "target", "capture", "sensitive", "shell", "continue_on_error", "vm"}
)

OUTPUT_LIMIT = 64 * 1024
DEFAULT_STEP_TIMEOUT = 60.0


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


@dataclass
class Frame:
    """Where a list of steps runs: variables, cancel scope, loop iteration, branch, VM."""

    vars: Variables
    assign: Variables
    token: ScopeToken
    phase: str = "main"
    iteration: int | None = None
    branch: str | None = None
    vm: str | None = None

    def child(self, **changes: Any) -> Frame:
        values = {**self.__dict__, **changes}
        return Frame(**values)


class RunState:
    """Shared by every branch of a run: settings, connections, sessions, the VDI client."""

    def __init__(
        self,
        scenario: Any,
        targets: list[Target],
        emitter: EventEmitter,
        root: ScopeToken,
        run_id: str,
        artifact_dir: Path,
        vdi: VdiSettings | None,
        max_parallel: int,
        env: dict[str, str],
        references: dict[str, ReferenceSpec | list[ReferenceSpec]],
        session_factory: Any = None,
    ) -> None:
        self.scenario = scenario
        self.targets = targets
        self.emitter = emitter
        self.root = root
        self.run_id = run_id
        self.artifact_dir = artifact_dir
        self.vdi_settings = vdi
        self.max_parallel = max(1, int(max_parallel))
        self.env = env
        self.secrets: dict[str, str] = {}
        self.masker = Masker()
        self.references = references
        self.plan = plan_steps(scenario)
        self.plan_index = {p.id: i for i, p in enumerate(self.plan)}
        self.planned = {p.id: p for p in self.plan}
        self.defaults = scenario.defaults
        self._lock = threading.RLock()
        self._connections: dict[str, Any] = {}
        self._owned: list[Any] = []  # connections this run opened (shared ones are not closed)
        self.connections: Any = None  # host URI -> the caller's shared HostConnection, or None
        self._sessions: dict[tuple[str, str, str], Any] = {}
        self._vdi: Any = None
        self.input_marks: dict[tuple[str, str], Any] = {}
        self.session_factory = session_factory
        self.initial_vars: dict[str, Any] = {}
        self.pause_rule: PauseRule | None = None
        self.pauser: Pauser | None = None
        self.pause_max = 0.0
        self.video = False  # record each target's SPICE display (run_scenario(video=True))
        # cancelled by an abort only (run_scenario(abort=)): the parent of every teardown scope,
        # which a cancel leaves running
        self.teardown_root = ScopeToken(None, None, "abort")

    # -- VMs ------------------------------------------------------------------------------
    def session(self, host_uri: str, vm: str, display: str = "hypervisor"):
        if not vm:
            raise InvalidInput("no VM selected for this step")
        key = (host_uri, vm, display)
        with self._lock:
            if key in self._sessions:
                return self._sessions[key]
            if self.session_factory is not None:
                session = self.session_factory(host_uri, vm)
            else:
                if not host_uri:
                    raise InvalidInput(f"VM {vm!r}: no host URI to connect it on")
                from atp_core.protocol import VmSession
                from atp_core.transport import HostConnection

                conn = self._connections.get(host_uri)
                if conn is None:
                    # the process's shared connection (TransportManager) when the caller has
                    # one for this host, else one of the run's own, closed at its end
                    shared = self.connections(host_uri) if self.connections else None
                    if shared is None:
                        conn = HostConnection(host_uri).connect()
                        self._owned.append(conn)
                    else:
                        conn = shared
                    self._connections[host_uri] = conn
                session = VmSession(conn, vm, display=display)
            self._sessions[key] = session
            return session

    def vdi_client(self):
        with self._lock:
            if self._vdi is None:
                if self.vdi_settings is None:
                    raise InvalidInput(
                        "this step talks to the VDI platform, but the run has no VDI endpoint "
                        "(give --vdi URL on the command line, or pick an endpoint for the run)"
                    )
                from atp_core.vdiplatform import VdiClient

                s = self.vdi_settings
                self._vdi = VdiClient(
                    s.url, s.username, s.password, verify_ssl=s.verify_tls, cancel=self.root
                )
            return self._vdi

    def close(self) -> None:
        with self._lock:
            vdi, self._vdi = self._vdi, None
            conns, self._owned = self._owned, []
            self._connections = {}
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            closer = getattr(session, "close", None)
            if closer is not None:
                try:
                    closer()
                except Exception:  # closing must not fail the run
                    log.debug("closing a VM session failed", exc_info=True)
        if vdi is not None:
            try:
                vdi.close()
            except Exception:  # closing must not fail the run
                log.debug("closing the VDI client failed", exc_info=True)
        for conn in conns:
            try:
                conn.close()
            except Exception:
                log.debug("closing %r failed", conn, exc_info=True)

    def step_timeout(self, model: Any) -> float:
        if model.timeout is not None:
            return float(model.timeout)
        base = self.defaults.timeout if self.defaults.timeout is not None else DEFAULT_STEP_TIMEOUT
        return float(model.default_timeout(float(base)))


class Branch:
    """The run on one target: its report, variables, and the step machinery."""

    def __init__(self, run: RunState, target: Target) -> None:
        self.run = run
        self.target = target
        self.display = target.display or getattr(run.scenario, "display", None) or "hypervisor"
        self.report = TargetReport(
            name=target.name, vm=target.vm, host_uri=target.host_uri, display=self.display
        )
        self._lock = threading.Lock()
        self._known_vms = {t.name: t for t in run.targets} | {t.vm: t for t in run.targets}
        self.pause_budget = PauseBudget(run.pause_max)
        self.recorder: Any = None

    # -- plumbing -------------------------------------------------------------------------
    def emit(self, kind: str, step_id: str | None = None, /, **data: Any) -> None:
        self.run.emitter.emit(kind, target=self.target.name, step_id=step_id, **data)

    def resolve_vm(self, name: str) -> tuple[str, str]:
        """(host URI, domain) of a VM named by a ``target:``: a run target or a VM on our host."""
        known = self._known_vms.get(name)
        if known is not None:
            return known.host_uri, known.vm
        return self.target.host_uri, name

    def vm_name(self, override: str | None) -> str:
        if override:
            return self.resolve_vm(override)[1]
        return self.target.vm

    def session(self, override: str | None):
        if override:
            uri, vm = self.resolve_vm(override)
        else:
            uri, vm = self.target.host_uri, self.target.vm
        if not vm:
            raise InvalidInput(
                f"target {self.target.name!r} has no VM; give the step a 'target:' naming one"
            )
        session = self.run.session(uri, vm, self.display)
        if self.run.video and not override and self.recorder is None:
            self._start_video(session)
        return session

    def _start_video(self, session: Any) -> None:
        """Record the target's own SPICE display from its first use (once; never fails a step)."""
        from .video import start_recording

        self.recorder = start_recording(self, session)

    def save_artifact(
        self, call: StepCall, name: str, data: bytes, kind: str, mime: str
    ) -> dict[str, Any]:
        folder = self.run.artifact_dir / _safe(self.target.name)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = {"image/png": ".png", "text/plain": ".txt"}.get(mime, "")
        stem = _safe(call.step_id)
        if call.report.iteration is not None:
            stem += f"-{call.report.iteration}"
        if call.report.branch:
            stem += f"-{_safe(call.report.branch)}"
        stem += f"-{_safe(name)}"
        path = folder / (stem + suffix)
        n = 1
        while path.exists():
            n += 1
            path = folder / f"{stem}-{n}{suffix}"
        path.write_bytes(data)
        info = {"name": path.name, "path": str(path.resolve()), "kind": kind, "mime": mime}
        call.report.artifacts.append(info)
        self.emit("artifact", call.step_id, **info)
        return info

    def new_report(self, sid: str, model: Any, frame: Frame) -> StepReport:
        planned = self.run.planned.get(sid)
        report = StepReport(
            id=sid,
            name=frame.vars.render_label(step_name(model)),
            type=model.type,
            iteration=frame.iteration,
            depth=planned.depth if planned else 0,
            phase=frame.phase,
            branch=frame.branch,
        )
        with self._lock:
            self.report.steps.append(report)
        return report

    def finish(self, report: StepReport, status: str, started: float | None) -> None:
        report.status = status
        report.duration = 0.0 if started is None else time.monotonic() - started
        if len(report.output) > OUTPUT_LIMIT:
            report.output = report.output[:OUTPUT_LIMIT] + "\n… (truncated)"
        self.emit(
            "step_finished",
            report.id,
            name=report.name,
            type=report.type,
            status=status,
            duration=round(report.duration, 4),
            error=report.error,
            output=report.output,
            iteration=report.iteration,
            branch=report.branch,
            metrics=dict(report.metrics),
        )

    def skip(self, sid: str, model: Any, frame: Frame, reason: str) -> None:
        report = self.new_report(sid, model, frame)
        report.error = reason
        self.finish(report, StepStatus.SKIPPED, None)
        if model.type in CONTAINER_KINDS:
            self.skip_list(self.numbered(sid, model.steps), frame, reason)
            if model.type == "group":
                self.skip_list(self.numbered(sid, model.finally_, "F"), frame, reason)

    def skip_list(self, items: list[tuple[str, Any]], frame: Frame, reason: str) -> None:
        for sid, model in items:
            self.skip(sid, model, frame, reason)

    @staticmethod
    def numbered(parent: str | None, steps: list[Any], mark: str = "") -> list[tuple[str, Any]]:
        prefix = f"{parent}." if parent else ""
        return [(f"{prefix}{mark}{i}", s) for i, s in enumerate(steps, start=1)]

    # -- running --------------------------------------------------------------------------
    def run_target(self) -> TargetReport:
        started = time.monotonic()
        scenario = self.run.scenario
        self.emit("target_started")
        base = Variables(
            {
                "vm": {"name": self.target.vm, "uuid": _LazyUuid(self)},
                "host": {"name": self.target.host_name, "uri": self.target.host_uri},
                "run": {"id": self.run.run_id, "scenario": scenario.name},
                "target": {"name": self.target.name},
            },
            env=self.run.env,
            secrets=self.run.secrets,
        )
        base.values.update(self.run.initial_vars)
        scope = base.child()
        token = ScopeToken(self.run.root, started + float(scenario.timeout), "target")
        frame = Frame(vars=scope, assign=scope, token=token)
        if self.run.video and self.display == "spice" and self.target.vm:
            try:
                self.session(None)  # the video starts before the first step
            except AtpError:
                pass  # the first step that needs the VM says why
        _, _ = self.run_steps(frame, self.numbered(None, scenario.steps))
        fired = token.fired_by if token.cancelled else None
        teardown = frame.child(
            token=ScopeToken(self.run.teardown_root, None, "teardown"), phase="finally"
        )
        self.run_steps(teardown, self.numbered(None, scenario.finally_, "F"))
        if self.recorder is not None:
            from .video import finish_recording

            finish_recording(self, self.recorder)
        self.fill_skipped()
        report = self.report
        report.duration = time.monotonic() - started
        if fired == "target":
            report.result = Result.TIMED_OUT
            report.error = f"the run timeout of {float(scenario.timeout):g} s was reached"
        elif fired:
            report.result = Result.CANCELLED
            report.error = self.run.root.reason or "cancelled"
        else:
            report.result = Result.PASSED
            for step in report.steps:
                if step.type not in CONTAINER_KINDS and step.status in BAD_STATUSES:
                    report.result = step.status
                    report.error = f"step {step.id} {step.name}: {step.error}"
                    break
        self.emit(
            "target_finished",
            result=report.result,
            duration=round(report.duration, 4),
            totals=report.totals,
            error=report.error,
        )
        return report

    def fill_skipped(self) -> None:
        """Planned steps that never got a report are reported ``skipped``, in plan order."""
        with self._lock:
            seen = {s.id for s in self.report.steps}
        for planned in self.run.plan:
            if planned.id not in seen:
                report = StepReport(
                    id=planned.id,
                    name=planned.name,
                    type=planned.type,
                    depth=planned.depth,
                    phase=planned.phase,
                    error="not reached",
                )
                with self._lock:
                    self._insert_in_plan_order(report)
                self.finish(report, StepStatus.SKIPPED, None)

    def _insert_in_plan_order(self, report: StepReport) -> None:
        index = self.run.plan_index[report.id]
        steps = self.report.steps
        pos = len(steps)
        for i, existing in enumerate(steps):
            if self.run.plan_index.get(existing.id, -1) > index:
                pos = i
                break
        steps.insert(pos, report)

    def run_steps(self, frame: Frame, items: list[tuple[str, Any]]) -> tuple[str, bool]:
        """Run ``items`` in order; returns (worst status, whether the list was stopped)."""
        statuses: list[str] = []
        for pos, (sid, model) in enumerate(items):
            if frame.token.cancelled:
                reason = self._stop_reason(frame.token)
                self.skip_list(items[pos:], frame, reason)
                statuses.append(
                    StepStatus.CANCELLED if frame.token.fired_by == "cancel" else StepStatus.ERROR
                )
                return worst_status(statuses), True
            status, stopped = self.execute(frame, sid, model)
            statuses.append(status)
            if stopped:
                self.skip_list(items[pos + 1 :], frame, f"not run: step {sid} {status}")
                return worst_status(statuses), True
        return worst_status(statuses), False

    @staticmethod
    def _stop_reason(token: ScopeToken) -> str:
        if token.fired_by == "target":
            return "not run: the run timeout was reached"
        if token.fired_by == "cancel":
            return "not run: the run was cancelled"
        return "not run: timeout"

    def _continue(self, model: Any) -> bool:
        if model.continue_on_error is not None:
            return bool(model.continue_on_error)
        return bool(self.run.defaults.continue_on_error)

    def execute(self, frame: Frame, sid: str, model: Any) -> tuple[str, bool]:
        rule = self.run.pause_rule
        if rule is not None and self.run.pauser is not None and rule.before(sid):
            decision = self.pause(frame, sid, model, "step", None, None)
            if decision is not None and decision.action == "skip":
                self.skip(sid, model, frame, f"skipped by {decision.by or 'someone'} while paused")
                return StepStatus.SKIPPED, False
            if frame.token.cancelled:
                self.skip(sid, model, frame, self._stop_reason(frame.token))
                return StepStatus.CANCELLED, True
        if model.type in CONTAINER_KINDS:
            return self.execute_container(frame, sid, model)
        return self.execute_leaf(frame, sid, model)

    # -- leaf steps -----------------------------------------------------------------------
    def execute_leaf(self, frame: Frame, sid: str, model: Any) -> tuple[str, bool]:
        report = self.new_report(sid, model, frame)
        retries = model.retries if model.retries is not None else self.run.defaults.retries
        delay = (
            model.retry_delay if model.retry_delay is not None else self.run.defaults.retry_delay
        )
        started = time.monotonic()
        report.started_at = time.time()
        status = StepStatus.ERROR
        for attempt in range(1, int(retries) + 2):
            report.attempts = attempt
            self.emit(
                "step_started",
                sid,
                name=report.name,
                type=model.type,
                attempt=attempt,
                iteration=frame.iteration,
                branch=frame.branch,
            )
            status = self.attempt(frame, sid, model, report)
            if status in (StepStatus.PASSED, StepStatus.CANCELLED) or frame.token.cancelled:
                break
            if attempt <= retries:
                self.emit(
                    "step_log",
                    sid,
                    level="warning",
                    message=f"attempt {attempt} {status}: {report.error}; "
                    f"retrying in {float(delay):g} s",
                )
                try:
                    frame.token.wait(float(delay))
                except Cancelled:
                    break
        status = self.pause_after(frame, sid, model, report, status)
        self.finish(report, status, started)
        stopped = status == StepStatus.CANCELLED or (
            status in BAD_STATUSES and not self._continue(model)
        )
        if frame.token.cancelled:
            stopped = True
        return status, stopped

    def attempt(self, frame: Frame, sid: str, model: Any, report: StepReport) -> str:
        timeout = self.run.step_timeout(model)
        token = ScopeToken(frame.token, time.monotonic() + timeout, "step")
        report.error = None
        report.check = None
        call: StepCall | None = None
        try:
            token.raise_if_cancelled()
            handler = HANDLERS.get(model.type)
            if handler is None:
                raise InvalidInput(f"step kind {model.type!r} has no handler in this engine")
            args = model.model_dump(by_alias=True, exclude={"steps", "finally_", "check"})
            args = frame.vars.render(args)
            if getattr(model, "sensitive", None):
                self.run.masker.add_all(
                    {k: v for k, v in args.items() if k not in NOT_SENSITIVE_FIELDS}
                )
            vm = frame.vm
            if args.get("target"):
                vm = str(args["target"])
            call = StepCall(
                branch=self,
                step_id=sid,
                kind=model.type,
                args=args,
                model=model,
                token=token,
                report=report,
                variables=frame.vars,
                timeout=timeout,
                vm_override=vm,
                frame=frame,
            )
            handler(call)
            if model.capture:
                value = call.value if call.value is not None else "\n".join(call.output_parts)
                frame.assign.set(model.capture, value)
            status = StepStatus.PASSED
        except Cancelled as exc:
            token.cancelled  # noqa: B018 - settles fired_by
            fired = token.fired_by
            if fired == "step":
                report.error = f"timed out after {timeout:g} s"
                status = StepStatus.ERROR
            elif fired == "target":
                report.error = "the run timeout was reached during this step"
                status = StepStatus.ERROR
            else:
                report.error = str(exc) or "cancelled"
                status = StepStatus.CANCELLED
        except CheckFailed as exc:
            report.error = str(exc)
            report.check = getattr(exc, "details", None)
            status = StepStatus.FAILED
        except ExecTimeout as exc:
            report.error = f"timed out after {timeout:g} s: {exc}"
            if exc.partial is not None and call is not None:
                call.say(exc.partial.stdout + exc.partial.stderr)
            status = StepStatus.ERROR
        except AtpError as exc:
            report.error = str(exc) or type(exc).__name__
            status = StepStatus.ERROR
        except Exception as exc:  # a bug or an unexpected library error: still only this step
            log.exception("step %s (%s) raised", sid, model.type)
            report.error = f"{type(exc).__name__}: {exc}"
            status = StepStatus.ERROR
        if call is not None and call.output_parts:
            report.output = "\n".join(p for p in call.output_parts if p)
        if status != StepStatus.PASSED and report.error:
            self.emit("step_log", sid, level="error", message=report.error)
        return status

    # -- developer mode: pauses ------------------------------------------------------------
    def pause_after(
        self, frame: Frame, sid: str, model: Any, report: StepReport, status: str
    ) -> str:
        """Pause on a failed step when ``pause_on`` says so; returns the step's final status
        (a retry may pass, a skip makes it ``skipped``)."""
        rule = self.run.pause_rule
        while rule is not None and self.run.pauser is not None and not frame.token.cancelled:
            why = rule.after(model.type, status, report.check is not None)
            if why is None:
                break
            decision = self.pause(frame, sid, model, why, report, status)
            if decision is None:
                left = f"{self.run.pause_max:g} s of pause (ATP_PAUSE_MAX) used up"
                report.error = f"{report.error} (paused; {left}: continued as {status})"
                break
            if decision.action == "continue":
                break
            if decision.action == "skip":
                report.error = f"skipped by {decision.by or 'someone'} while paused: {report.error}"
                return StepStatus.SKIPPED
            refreshed = self.run.pauser.references()
            if refreshed is not None:
                self.run.references = refreshed
            report.attempts += 1
            self.emit(
                "step_started",
                sid,
                name=report.name,
                type=model.type,
                attempt=report.attempts,
                iteration=frame.iteration,
                branch=frame.branch,
            )
            status = self.attempt(frame, sid, model, report)
            if status in (StepStatus.PASSED, StepStatus.CANCELLED):
                break
        if frame.token.cancelled and status in BAD_STATUSES:
            report.error = report.error or "cancelled while paused"
        return status

    def pause(
        self,
        frame: Frame,
        sid: str,
        model: Any,
        why: str,
        report: StepReport | None,
        status: str | None,
    ) -> Decision | None:
        """Emit ``target_paused``, wait for a decision (None: the pause budget ran out),
        emit ``target_resumed``, and move the interrupted deadlines by the time paused."""
        assert self.run.pauser is not None
        budget = self.pause_budget
        pause_id = budget.next_id(self.target.name)
        planned = self.run.planned.get(sid)
        self.emit(
            "target_paused",
            sid,
            pause_id=pause_id,
            reason=why,
            rule=str(self.run.pause_rule),
            name=report.name if report else (planned.name if planned else model.type),
            type=model.type,
            status=status,
            error=report.error if report else None,
            check=report.check if report else None,
            reference=(report.check or {}).get("reference") if report else None,
            iteration=frame.iteration,
            max_seconds=round(budget.left, 3),
        )
        decision: Decision | None = None
        waited = 0.0
        try:
            decision, waited = wait_for_decision(
                self.run.pauser, self.target.name, pause_id, self.run.root, budget
            )
        except Cancelled:
            waited = 0.0
        token: Any = frame.token
        while token is not None:  # the pause does not count against the timeouts it cut
            if getattr(token, "deadline", None) is not None:
                token.deadline += waited
            token = getattr(token, "parent", None)
        action = (
            "cancelled" if self.run.root.cancelled else (decision.action if decision else "timeout")
        )
        self.emit(
            "target_resumed",
            sid,
            pause_id=pause_id,
            decision=action,
            by=decision.by if decision else "",
            waited=round(waited, 3),
        )
        return decision

    # -- containers -----------------------------------------------------------------------
    def execute_container(self, frame: Frame, sid: str, model: Any) -> tuple[str, bool]:
        report = self.new_report(sid, model, frame)
        started = time.monotonic()
        report.started_at = time.time()
        report.attempts = 1
        self.emit(
            "step_started",
            sid,
            name=report.name,
            type=model.type,
            attempt=1,
            iteration=frame.iteration,
            branch=frame.branch,
        )
        inner = frame
        if model.timeout is not None:
            inner = frame.child(
                token=ScopeToken(frame.token, time.monotonic() + float(model.timeout), "step")
            )
        try:
            if model.target:
                inner = inner.child(vm=str(frame.vars.render(model.target)))
            if model.type == "group":
                status, stopped = self.run_group(inner, sid, model)
            elif model.type == "loop":
                status, stopped = self.run_loop(inner, sid, model)
            else:
                status, stopped = self.run_parallel(inner, sid, model, report)
        except AtpError as exc:  # e.g. a for_each that is not a list
            report.error = str(exc)
            self.emit("step_log", sid, level="error", message=report.error)
            self.skip_list(self.numbered(sid, model.steps), frame, f"not run: {exc}")
            status, stopped = StepStatus.ERROR, True
        if inner.token is not frame.token and inner.token.fired_by == "step":
            report.error = report.error or f"timed out after {float(model.timeout):g} s"
        if status in BAD_STATUSES and not report.error:
            report.error = (
                "a step inside failed" if status == StepStatus.FAILED else "a step inside erred"
            )
        self.finish(report, status, started)
        if status == StepStatus.CANCELLED or frame.token.cancelled:
            return status, True
        return status, stopped and not self._continue(model)

    def run_group(self, frame: Frame, sid: str, model: Any) -> tuple[str, bool]:
        status, stopped = self.run_steps(frame, self.numbered(sid, model.steps))
        if model.finally_:
            teardown = frame.child(
                token=ScopeToken(self.run.teardown_root, None, "teardown"), phase="finally"
            )
            f_status, f_stopped = self.run_steps(teardown, self.numbered(sid, model.finally_, "F"))
            status = worst_status([status, f_status])
            stopped = stopped or f_stopped
        return status, stopped

    def run_loop(self, frame: Frame, sid: str, model: Any) -> tuple[str, bool]:
        items = self._items(frame, model, sid)
        statuses: list[str] = []
        children = self.numbered(sid, model.steps)
        for index, item in enumerate(items):
            if frame.token.cancelled:
                break
            values: dict[str, Any] = {
                "loop": {"index": index, "item": item, "count": len(items), "first": index == 0}
            }
            if model.as_:
                values[model.as_] = item
            scope = frame.vars.child(values)
            inner = frame.child(vars=scope, iteration=index)
            status, stopped = self.run_steps(inner, children)
            statuses.append(status)
            if stopped:
                return worst_status(statuses), True
        if frame.token.cancelled:
            return worst_status([*statuses, StepStatus.CANCELLED]), True
        return worst_status(statuses), False

    def _items(self, frame: Frame, model: Any, sid: str) -> list[Any]:
        if getattr(model, "count", None) is not None:
            return list(range(int(model.count)))
        raw = frame.vars.render(model.for_each)
        if isinstance(raw, dict):
            raise InvalidInput(f"step {sid}: for_each is a mapping; give a list")
        if isinstance(raw, str):
            raise InvalidInput(
                f"step {sid}: for_each must be a list (or ${{var}} holding one), got {raw!r}"
            )
        return list(raw or [])

    def run_parallel(
        self, frame: Frame, sid: str, model: Any, report: StepReport
    ) -> tuple[str, bool]:
        if model.targets is not None:
            names = [str(frame.vars.render(t)) for t in model.targets]
            branches = [(name, name, name) for name in names]  # (label, item, vm)
        else:
            items = self._items(frame, model, sid)
            branches = [(_label(item, i), item, None) for i, item in enumerate(items)]
        children = self.numbered(sid, model.steps)
        if not branches:
            self.emit("step_log", sid, level="info", message="no branches: nothing to run")
            return StepStatus.PASSED, False
        workers = min(len(branches), model.max_concurrency or self.run.max_parallel)
        report.output = f"{len(branches)} branches, at most {workers} at once"

        def one(index: int, label: str, item: Any, vm: str | None) -> tuple[str, bool]:
            values: dict[str, Any] = {
                "item": item,
                "loop": {"index": index, "item": item, "count": len(branches)},
                "branch": {"index": index, "name": label},
            }
            if model.as_:
                values[model.as_] = item
            scope = frame.vars.child(values)
            inner = frame.child(
                vars=scope, assign=scope, iteration=index, branch=label, vm=vm or frame.vm
            )
            try:
                return self.run_steps(inner, children)
            except Exception as exc:  # a bug must not hang the other branches
                log.exception("parallel branch %s of step %s", label, sid)
                self.emit("step_log", sid, level="error", message=f"branch {label}: {exc}")
                return StepStatus.ERROR, True

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"par-{sid}") as pool:
            futures = [pool.submit(one, i, *b) for i, b in enumerate(branches)]
            results = [f.result() for f in futures]
        status = worst_status([r[0] for r in results])
        stopped = any(r[1] for r in results)
        return status, stopped


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for key in ("name", "id", "vm"):
            if item.get(key):
                return str(item[key])
    if isinstance(item, str | int | float):
        return str(item)
    return f"#{index}"


class _LazyUuid:
    """``${vm.uuid}``: looked up only when a step uses it."""

    def __init__(self, branch: Branch) -> None:
        self.branch = branch

    def __str__(self) -> str:
        return self.branch.session(None).uuid


class _Watcher(threading.Thread):
    """Copies a caller's cancel token (which may poll a database) onto the run's root token."""

    def __init__(self, source: CancelToken, *roots: ScopeToken, interval: float = 0.1) -> None:
        super().__init__(name="atp-cancel-watch", daemon=True)
        self.source = source
        self.roots = roots
        self.interval = interval
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                if self.source.cancelled:
                    for root in self.roots:
                        if not root.cancelled:
                            root.fired_by = "cancel"
                            root.cancel(self.source.reason or "cancelled")
                    return
            except Exception:  # a failing poll (database gone) must not kill the run
                log.warning("cancel token poll failed", exc_info=True)
            self.done.wait(self.interval)


def run_scenario(
    scenario: Any,
    targets: list[Target],
    *,
    sink: Sink | None = None,
    variables: dict | None = None,
    cancel: CancelToken | None = None,
    abort: CancelToken | None = None,
    run_id: str = "",
    artifact_dir: str | Path = "artifacts",
    vdi: VdiSettings | None = None,
    max_parallel: int = 4,
    env_allowed: dict | None = None,
    references: dict[str, ReferenceSpec | list[ReferenceSpec]] | None = None,
    session_factory: Any = None,
    secrets: dict[str, str] | None = None,
    pause_on: str | None = None,
    pauser: Pauser | None = None,
    pause_max: float = 1800.0,
    video: bool = False,
    connections: Callable[[str], HostConnection | None] | None = None,
) -> RunReport:
    """Run ``scenario`` on ``targets`` (each its own branch, at most ``max_parallel`` at once).

    ``variables`` override the scenario's; ``env_allowed`` is the ``${env.NAME}`` allow-list as
    ``{NAME: value}``; ``references`` are the reference images of ``verify_screen`` by name;
    ``session_factory(host_uri, vm)`` replaces the libvirt ``VmSession`` (tests); ``secrets``
    are the ``${secret.NAME}`` values, masked (``***``) in every event and in the report, like
    the rendered text of steps marked ``sensitive``. ``pause_on`` (else the scenario's) pauses
    a target on a failure, a mismatch or at a step while ``pauser`` can answer, for at most
    ``pause_max`` seconds per target (see ``pause``). ``connections(host_uri)`` gives the
    process's shared libvirt connection of a host (a ``TransportManager``'s), or None: then
    the run opens its own and closes it at its end. ``cancel`` stops the steps (the running
    one ends ``cancelled``, the rest ``skipped``) and lets teardown run; ``abort`` does that
    and cancels the teardown too (the CLI's second Ctrl-C). Never raises for scenario or
    infrastructure problems: they end in the report and in the events.
    """
    started = time.monotonic()
    secrets = {str(k): str(v) for k, v in (secrets or {}).items()}
    masker = Masker(list(secrets.values()))
    emitter = EventEmitter(sink)
    emitter.masker = masker
    root = ScopeToken(None, None, "cancel")
    scenario = as_scenario(scenario)
    if not targets:
        targets = [Target(name="run", host_uri="", vm="")]
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        targets = [
            Target(f"{t.name}#{i + 1}", t.host_uri, t.vm, t.host_name, t.display)
            for i, t in enumerate(targets)
        ]
    artifact_path = Path(artifact_dir)
    run = RunState(
        scenario,
        targets,
        emitter,
        root,
        run_id,
        artifact_path,
        vdi,
        max_parallel,
        {str(k): str(v) for k, v in (env_allowed or {}).items()},
        dict(references or {}),
        session_factory,
    )
    run.secrets = secrets
    run.masker = masker
    run.connections = connections
    run.video = bool(video)
    run.initial_vars = {**scenario.variables, **(variables or {})}
    if pauser is not None:
        from .pause import check_step_exists

        try:
            run.pause_rule = PauseRule.parse(pause_on or getattr(scenario, "pause_on", None))
            check_step_exists(run.pause_rule, [p.id for p in run.plan])
        except InvalidInput:  # the launch and the loader refuse these; never stop a run for it
            log.warning("run %s: pause_on %r ignored", run_id, pause_on, exc_info=True)
            run.pause_rule = None
        run.pauser = pauser
        run.pause_max = max(0.0, float(pause_max))
    report = RunReport(scenario=scenario.name, run_id=run_id, started_at=time.time())
    emitter.emit(
        "run_started",
        run_id=run_id,
        scenario=scenario.name,
        targets=[t.name for t in targets],
        plan=[p.to_dict() for p in run.plan],
    )
    watchers = []
    if cancel is not None:
        watchers.append(_Watcher(cancel, root))
    if abort is not None:  # an abort is a cancel that stops the teardown too
        watchers.append(_Watcher(abort, root, run.teardown_root))
    for watcher in watchers:
        watcher.start()
    try:
        branches = [Branch(run, t) for t in targets]
        workers = min(len(branches), run.max_parallel)

        def one(branch: Branch) -> TargetReport:
            try:
                return branch.run_target()
            except Exception as exc:  # a bug in the engine: report it as this target's error
                log.exception("target %s crashed", branch.target.name)
                branch.report.result = Result.ERROR
                branch.report.error = f"engine error: {type(exc).__name__}: {exc}"
                branch.fill_skipped()
                branch.emit(
                    "target_finished",
                    result=Result.ERROR,
                    duration=0.0,
                    totals=branch.report.totals,
                    error=branch.report.error,
                )
                return branch.report

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="atp-target") as pool:
            report.targets = list(pool.map(one, branches))
    finally:
        for watcher in watchers:
            watcher.done.set()
        run.close()
    report.duration = time.monotonic() - started
    report.result = combine_results([t.result for t in report.targets])
    errors = [f"{t.name}: {t.error}" for t in report.targets if t.error]
    report.error = "; ".join(errors) or None
    masker.mask(report)  # errors and outputs may hold what a step rendered from a secret
    emitter.emit(
        "run_finished",
        result=report.result,
        duration=round(report.duration, 4),
        totals=report.totals,
    )
    return report


__all__ = [
    "PlannedStep",
    "ReferenceSpec",
    "Target",
    "VdiSettings",
    "plan_steps",
    "run_scenario",
    "to_text",
]
