"""``python -m atp_core run FILE``: run a scenario from the command line with a live display.

Exit code: 0 passed, 1 failed (a check did not hold), 2 error / cancelled / timed out, or the
scenario could not be loaded. Ctrl-C cancels the run (teardown still runs); a second Ctrl-C
aborts: the running teardown step is cancelled and the rest skipped, the reports are still
written (exit 2); a third one interrupts at once (exit 130, no report).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from atp_core.status import BAD_STATUSES, FINAL_STATUSES, Result, StepStatus

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
STYLE = {
    Result.PASSED: "green",
    Result.FAILED: "red",
    Result.ERROR: "bold red",
    StepStatus.SKIPPED: "dim",
    Result.CANCELLED: "yellow",
    Result.TIMED_OUT: "yellow",
}
MARK = {
    StepStatus.PASSED: "✔",
    StepStatus.FAILED: "✘",
    StepStatus.ERROR: "!",
    StepStatus.SKIPPED: "·",
    StepStatus.CANCELLED: "⊘",
}


def exit_code(result: str) -> int:
    return {Result.PASSED: EXIT_PASSED, Result.FAILED: EXIT_FAILED}.get(result, EXIT_ERROR)


def add_run_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    run = subparsers.add_parser(
        "run",
        help="run a scenario on VMs (exit 0 passed, 1 failed, 2 error/cancelled/timed out)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("file", metavar="FILE", help="scenario (YAML/JSON, version 1 or legacy)")
    run.add_argument(
        "--host",
        default=os.environ.get("ATP_LIBVIRT_URI", "qemu:///system"),
        metavar="URI",
        help="libvirt URI of the VMs' host (default $ATP_LIBVIRT_URI or qemu:///system)",
    )
    run.add_argument("--host-name", default="local", help="display name of the host")
    run.add_argument(
        "--display",
        choices=("hypervisor", "spice"),
        help="path of keyboard, mouse and screen steps (default: the scenario's 'display')",
    )
    run.add_argument(
        "--vm",
        action="append",
        default=[],
        metavar="NAME",
        help="run on this VM (repeat for several; default: the scenario's targets)",
    )
    run.add_argument(
        "--var", action="append", default=[], metavar="K=V", help="set a variable (YAML value)"
    )
    run.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME",
        help="allow ${env.NAME} for this environment variable (repeatable)",
    )
    run.add_argument("--vdi", metavar="URL", help="VDI platform base URL")
    run.add_argument("--vdi-user", default=os.environ.get("ATP_VDI_USER", "admin"))
    run.add_argument(
        "--vdi-password",
        default=None,
        help="VDI password (default: $ATP_VDI_PASSWORD; prefer the variable)",
    )
    run.add_argument("--vdi-insecure", action="store_true", help="do not verify TLS")
    run.add_argument(
        "--references",
        metavar="DIR",
        help="reference images (NAME.png + optional NAME.json: areas, exclude, threshold, method); "
        "default: references/ next to FILE",
    )
    run.add_argument("--artifacts", metavar="DIR", help="screenshots etc. (default ./artifacts/…)")
    run.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    run.add_argument(
        "--video",
        action="store_true",
        help="record a WebM of each SPICE target (ffmpeg) into the artifact folder",
    )
    run.add_argument("--json", metavar="FILE", help="write the JSON report")
    run.add_argument("--max-parallel", type=int, default=4, help="targets run at once")
    run.add_argument("--run-id", default="", help="an id for the run (shown as ${run.id})")
    run.add_argument("-q", "--quiet", action="store_true", help="no live display, only summary")
    run.set_defaults(handler=run_command)
    return run


def parse_vars(items: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--var {item!r}: expected NAME=VALUE")
        name, raw = item.split("=", 1)
        name = name.strip()
        if not name.isidentifier():
            raise ValueError(f"--var {item!r}: {name!r} is not a variable name")
        try:
            values[name] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            values[name] = raw
    return values


def load_references(folder: Path | None) -> dict[str, Any]:
    """``NAME.png`` (with an optional ``NAME.json``: areas, threshold, method, exclude) is
    reference ``NAME``; ``NAME@LABEL.png`` is candidate ``LABEL`` of the same reference."""
    from atp_core.orchestrator.runtime import ReferenceSpec

    refs: dict[str, Any] = {}
    if folder is None or not folder.is_dir():
        return refs
    for png in sorted(folder.glob("*.png")):
        meta: dict[str, Any] = {}
        side = png.with_suffix(".json")
        if side.is_file():
            meta = json.loads(side.read_text())
        name, _, label = png.stem.partition("@")
        spec = ReferenceSpec(
            path=png,
            areas=[tuple(int(v) for v in a) for a in meta.get("areas", [])],
            threshold=meta.get("threshold"),
            method=meta.get("method"),
            exclude=[tuple(int(v) for v in a) for a in meta.get("exclude", [])],
            label=label or name,
        )
        refs.setdefault(name, []).append(spec)
    for name, specs in refs.items():  # the plain NAME.png first, then the labelled ones
        specs.sort(key=lambda s: (Path(str(s.path)).stem != name, str(s.path)))
    return refs
    for png in sorted(folder.glob("*.png")):
        meta: dict[str, Any] = {}
        side = png.with_suffix(".json")
        if side.is_file():
            meta = json.loads(side.read_text())
        refs[png.stem] = ReferenceSpec(
            path=png,
            areas=[tuple(int(v) for v in a) for a in meta.get("areas", [])],
            threshold=meta.get("threshold"),
            method=meta.get("method"),
            exclude=[tuple(int(v) for v in a) for a in meta.get("exclude", [])],
        )
    return refs


class LiveView:
    """Prints each finished step and keeps a progress bar per target (thread-safe sink)."""

    def __init__(self, console, quiet: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.console = console
        self.quiet = quiet
        self.lock = threading.Lock()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[current]}"),
            console=console,
            transient=True,
            disable=quiet,
        )
        self.tasks: dict[str, Any] = {}
        self.plan_size = 0
        self.planned: dict[str, dict] = {}

    def __enter__(self) -> LiveView:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, event) -> None:
        with self.lock:
            self._handle(event)

    def _handle(self, event) -> None:
        data = event.data
        if event.type == "run_started":
            self.plan_size = len(data["plan"])
            self.planned = {p["id"]: p for p in data["plan"]}
            for name in data["targets"]:
                self.tasks[name] = self.progress.add_task(name, total=self.plan_size, current="")
            if not self.quiet:
                self.console.print(
                    f"[bold]{data['scenario']}[/]: {self.plan_size} planned steps on "
                    f"{', '.join(data['targets'])}"
                )
        elif event.type == "step_started" and event.target in self.tasks:
            self.progress.update(
                self.tasks[event.target], current=f"{event.step_id} {data['name']}"
            )
        elif event.type == "step_finished":
            task = self.tasks.get(event.target)
            if task is not None and data.get("iteration") is None:
                self.progress.advance(task)
            if self.quiet:
                return
            status = data["status"]
            depth = self.planned.get(event.step_id, {}).get("depth", 0)
            extra = ""
            if data.get("iteration") is not None:
                extra = _escape(f" [{data.get('branch') or data['iteration']}]")
            name = _escape(data["name"])
            line = (
                f"[{STYLE.get(status, '')}]{MARK.get(status, '?')} {status:<9}[/] "
                f"{_escape(event.target)}  {'  ' * depth}{event.step_id} {name}{extra}"
                f" [dim]{data['duration']:.2f}s[/]"
            )
            latency = (data.get("metrics") or {}).get("latency")
            if latency is not None:
                line += f" [dim]latency {latency * 1000:.0f} ms[/]"
            self.console.print(line, highlight=False, markup=True)
            if data.get("error") and status in (*BAD_STATUSES, StepStatus.CANCELLED):
                self.console.print(f"    [dim]{_escape(data['error'])}[/]", highlight=False)
        elif event.type == "artifact" and not self.quiet:
            self.console.print(f"    [dim]artifact {data['kind']}: {data['path']}[/]")
        elif event.type == "target_finished" and event.target in self.tasks:
            self.progress.update(self.tasks[event.target], current=data["result"])


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))


def summary_table(report):
    from rich.table import Table

    table = Table(title=f"{report.scenario}: {report.result}", title_justify="left")
    table.add_column("target", overflow="fold")
    table.add_column("result")
    for status in FINAL_STATUSES:
        table.add_column(status, justify="right")
    table.add_column("time", justify="right")
    for target in report.targets:
        totals = target.totals
        table.add_row(
            target.name,
            f"[{STYLE.get(target.result, '')}]{target.result}[/]",
            *(str(totals[s]) for s in FINAL_STATUSES),
            f"{target.duration:.1f}s",
        )
    return table


def latency_table(report):
    """Input-to-display latency per action kind (p50/p95/max, ms), or None when none measured."""
    from rich.table import Table

    from .latency import summarize

    summary = summarize(report.steps)
    if not summary:
        return None
    table = Table(title="input-to-display latency", title_justify="left")
    table.add_column("action")
    for name in ("inputs", "p50", "p95", "max"):
        table.add_column(name, justify="right")
    for kind, stats in summary.items():
        ms = (f"{stats[k] * 1000:.0f} ms" for k in ("p50", "p95", "max"))
        table.add_row(kind, str(stats["count"]), *ms)
    return table


def logon_table(report):
    """Logon time per phase (median/p95, s) over the run's logon steps, or None when none."""
    from rich.table import Table

    from .latency import summarize_logon

    summary = summarize_logon(report.steps)
    if not summary:
        return None
    table = Table(title="logon time by phase", title_justify="left")
    table.add_column("phase")
    for name in ("logons", "median", "p95"):
        table.add_column(name, justify="right")
    for phase, stats in summary.items():
        table.add_row(
            phase, str(stats["count"]), f"{stats['median']:.2f} s", f"{stats['p95']:.2f} s"
        )
    return table


def run_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from atp_core.cancel import CancelToken
    from atp_core.orchestrator import ScenarioValidationError, load_scenario_file
    from atp_core.orchestrator.executor import run_scenario
    from atp_core.orchestrator.runtime import Target, VdiSettings

    console = Console(stderr=False, highlight=False)
    err = Console(stderr=True, highlight=False)
    path = Path(args.file)
    try:
        scenario = load_scenario_file(path)
    except ScenarioValidationError as exc:
        for issue in exc.issues:
            err.print(_escape(issue.format(str(path))))
        return EXIT_ERROR
    except OSError as exc:
        err.print(f"{path}: cannot read: {exc.strerror or exc}")
        return EXIT_ERROR
    try:
        variables = parse_vars(args.var)
    except ValueError as exc:
        err.print(str(exc))
        return EXIT_ERROR

    names = list(args.vm) or [t.vm for t in scenario.targets if t.vm]
    if names:
        targets = [
            Target(f"{args.host_name}/{n}", args.host, n, args.host_name, args.display)
            for n in names
        ]
    else:
        targets = [Target(args.host_name, args.host, "", args.host_name)]

    vdi = None
    if args.vdi:
        password = args.vdi_password or os.environ.get("ATP_VDI_PASSWORD")
        if password is None:
            err.print("--vdi needs a password: set ATP_VDI_PASSWORD (or --vdi-password)")
            return EXIT_ERROR
        vdi = VdiSettings(args.vdi, args.vdi_user, password, verify_tls=not args.vdi_insecure)

    ref_dir = Path(args.references) if args.references else path.parent / "references"
    references = load_references(ref_dir)
    artifacts = Path(args.artifacts or Path("artifacts") / time.strftime("%Y%m%d-%H%M%S"))
    env_allowed = {n: os.environ[n] for n in args.env if n in os.environ}

    token = CancelToken()
    abort = CancelToken()
    previous = None

    def on_sigint(signum, frame):  # first Ctrl-C: cancel; second: abort; third: interrupt
        if abort.cancelled:
            raise KeyboardInterrupt
        if token.cancelled:
            err.print("[yellow]aborting: the teardown is cancelled too…[/]")
            abort.cancel("aborted from the keyboard")
            return
        err.print("[yellow]cancelling (teardown still runs; Ctrl-C again to abort)…[/]")
        token.cancel("cancelled from the keyboard")

    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with LiveView(console, args.quiet) as view:
            report = run_scenario(
                scenario,
                targets,
                sink=view,
                variables=variables,
                cancel=token,
                abort=abort,
                run_id=args.run_id,
                artifact_dir=artifacts,
                vdi=vdi,
                max_parallel=args.max_parallel,
                env_allowed=env_allowed,
                references=references,
                video=args.video,
            )
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)

    console.print(summary_table(report))
    for table in (latency_table(report), logon_table(report)):
        if table is not None:
            console.print(table)
    for target in report.targets:
        for step in target.steps:
            if step.status in BAD_STATUSES:
                console.print(
                    f"[{STYLE[step.status]}]{step.status}[/] {target.name} {step.id} "
                    f"{_escape(step.name)}: {_escape(step.error or '')}"
                )
    if args.json:
        Path(args.json).write_text(report.to_json(), encoding="utf-8")
        console.print(f"JSON report: {args.json}")
    if args.junit:
        Path(args.junit).write_text(report.to_junit_xml(), encoding="utf-8")
        console.print(f"JUnit report: {args.junit}")
    code = exit_code(report.result)
    console.print(f"result: [{STYLE.get(report.result, '')}]{report.result}[/] (exit {code})")
    sys.stdout.flush()
    return code
