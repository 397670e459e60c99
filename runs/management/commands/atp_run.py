"""``manage.py atp_run launch|cancel|show``: what an operator scripts around runs."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from atp_core.errors import InvalidInput
from atp_core.status import Result

EXIT = {Result.PASSED: 0, Result.FAILED: 1}


def _parse_var(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise CommandError(f"--var {text!r}: expected name=value")
    key, value = text.split("=", 1)
    key = key.strip()
    if not key.isidentifier():
        raise CommandError(f"--var {text!r}: {key!r} is not a valid name (letters, digits, _)")
    return key, value


class Command(BaseCommand):
    help = (
        "Runs from the command line. launch SCENARIO --vm NAME [--host H] [--tag T] "
        "[--var k=v] [--revision N] [--build LABEL] [--retries N] [--user U] [--wait]; "
        "cancel ID; show ID. "
        "With --wait, the exit status is 0 passed, 1 failed, 2 error/cancelled/timed out."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        launch = sub.add_parser("launch", help="launch a run of a scenario")
        launch.add_argument("scenario", help="scenario name")
        launch.add_argument("--vm", action="append", default=[], help="VM name (repeatable)")
        launch.add_argument("--host", default="", help="host of the --vm VMs")
        launch.add_argument("--tag", action="append", default=[], help="every VM with this tag")
        launch.add_argument("--var", action="append", default=[], help="variable name=value")
        launch.add_argument("--revision", type=int, help="revision number (default: current)")
        launch.add_argument(
            "--build", default="", help="the build under test (product version, CI build number)"
        )
        launch.add_argument("--user", default="", help="launch as this user (default: none)")
        launch.add_argument(
            "--retries",
            type=int,
            default=0,
            help="new attempts of the run after a lost worker (0-10)",
        )
        launch.add_argument("--wait", action="store_true", help="wait for the end, print it")
        launch.add_argument("--timeout", type=float, default=0, help="give up waiting after s")
        cancel = sub.add_parser("cancel", help="ask a run to stop")
        cancel.add_argument("run_id", type=int)
        cancel.add_argument("--user", default="")
        show = sub.add_parser("show", help="a run's state, targets and steps")
        show.add_argument("run_id", type=int)
        show.add_argument("--events", action="store_true", help="also list the events")

    def handle(self, *args, **opts):
        try:
            return getattr(self, f"_{opts['action']}")(opts)
        except InvalidInput as exc:
            raise CommandError(str(exc)) from None

    def _user(self, username: str):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--user: no user named {username!r}")
        return user

    def _run(self, run_id: int):
        from runs.models import Run

        run = Run.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"no run {run_id}")
        return run

    def _launch(self, opts):
        from runs.services import clean_retries, launch_run
        from scenarios.selectors import RevisionNotFound, get_revision

        try:
            revision = get_revision(opts["scenario"], opts["revision"] or None)
        except RevisionNotFound as exc:
            raise CommandError(str(exc)) from None
        if revision is None:
            raise CommandError(f"{opts['scenario']} has no runnable revision")
        targets = []
        for vm in opts["vm"]:
            target = {"vm": vm}
            if opts["host"]:
                target["host"] = opts["host"]
            targets.append(target)
        targets += [{"tag": t} for t in opts["tag"]]
        variables = dict(_parse_var(v) for v in opts["var"])
        run = launch_run(
            revision,
            targets,
            variables,
            self._user(opts["user"]),
            retries=clean_retries(opts["retries"]),
            build=opts["build"],
        )
        build = f" (build {run.build})" if run.build else ""
        self.stdout.write(f"run {run.pk} queued on {run.queue}{build}")
        if not opts["wait"]:
            return None
        return self._wait(run, opts["timeout"])

    def _wait(self, run, timeout: float):
        from runs.selectors import events_since

        deadline = time.monotonic() + timeout if timeout > 0 else None
        after = 0
        while True:
            for event in events_since(run, after):
                after = event["seq"]
                self.stdout.write(self._event_line(event))
            run.refresh_from_db()
            if not run.is_active and after >= run.last_seq:
                break
            if deadline and time.monotonic() > deadline:
                raise CommandError(f"run {run.pk} still {run.state} after {timeout:g}s")
            time.sleep(0.5)
        reason = f" ({run.reason})" if run.reason else ""
        self.stdout.write(f"run {run.pk}: {run.result}{reason}")
        self._metrics(run.pk)
        code = EXIT.get(run.result or "", 2)
        if code:
            raise SystemExit(code)
        return None

    def _metrics(self, run_id: int) -> None:
        """The run's latency per action kind and logon phases, from the one report builder."""
        from atp_core.orchestrator.latency import summary_lines
        from runs.reports import build_report
        from runs.selectors import run_detail

        for line in summary_lines(build_report(run_detail(run_id)).steps):
            self.stdout.write(line)

    @staticmethod
    def _event_line(event: dict) -> str:
        data = event["data"] or {}
        where = " ".join(p for p in (event["target"], event["step_id"]) if p)
        detail = ""
        if event["type"] == "step_finished":
            detail = f"{data.get('status')} {data.get('name', '')}"
            if data.get("error"):
                detail += f": {data['error']}"
        elif event["type"] == "step_started":
            detail = str(data.get("name", ""))
        elif event["type"] == "step_output":
            detail = str(data.get("text", "")).rstrip()
        elif event["type"] == "step_log":
            detail = str(data.get("message", ""))
        elif event["type"] in ("run_finished", "target_finished"):
            detail = str(data.get("result", ""))
        return f"#{event['seq']:<4} {event['type']:<16} {where} {detail}".rstrip()

    def _cancel(self, opts):
        from runs.services import request_cancel

        run = request_cancel(self._run(opts["run_id"]), self._user(opts["user"]))
        self.stdout.write(
            f"run {run.pk}: cancel requested ({run.state}{', ' + run.result if run.result else ''})"
        )

    def _show(self, opts):
        from runs.selectors import events_since, run_detail

        run = run_detail(self._run(opts["run_id"]).pk)
        w = self.stdout.write
        w(f"run {run.pk}: {run.name} rev {run.revision.number}")
        w(f"  state {run.state}  result {run.result or '-'}  queue {run.queue}")
        if run.build:
            w(f"  build {run.build}")
        w(f"  worker {run.worker or '-'}  attempt {run.attempt}/{run.max_attempts}")
        if run.reason:
            w(f"  reason: {run.reason}")
        w(f"  created {run.created:%Y-%m-%d %H:%M:%S}  duration {run.duration or '-'}")
        for target in run.run_targets.all():
            w(f"  target {target.name}: {target.result or target.state}")
            for step in target.steps.all():
                it = f"[{step.iteration}]" if step.iteration >= 0 else ""
                dur = f"{step.duration:.2f}s" if step.duration is not None else ""
                w(f"    {step.step_id:<8}{it:<5} {step.status:<9} {dur:>8}  {step.name}")
                if step.error:
                    w(f"      error: {step.error}")
        self._metrics(run.pk)
        for artifact in getattr(run, "all_artifacts", []):
            w(f"  artifact {artifact.kind:<10} {artifact.name} ({artifact.size} bytes)")
        if opts["events"]:
            after = 0
            while batch := events_since(run, after):
                for event in batch:
                    w(self._event_line(event))
                after = batch[-1]["seq"]
