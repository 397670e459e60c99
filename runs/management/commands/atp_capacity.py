"""``manage.py atp_capacity launch|show|cancel``: capacity runs from the command line."""

from __future__ import annotations

import json
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from atp_core.errors import InvalidInput
from atp_core.status import Result


class Command(BaseCommand):
    help = (
        "Capacity runs. launch --host H --template VM [--max-desks N] [--keys K] "
        "[--threshold 0.15] [--user U] [--wait [--timeout S]]; show ID [--json]; cancel ID. "
        "With --wait the exit status is 0 when a capacity was measured, 2 otherwise."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        launch = sub.add_parser("launch", help="launch a capacity run on a host's worker")
        launch.add_argument("--host", required=True, help="host name")
        launch.add_argument("--template", required=True, help="the VM each desk is a copy of")
        launch.add_argument("--max-desks", default="4")
        launch.add_argument("--keys", default="10", help="measured keys per desk and step")
        launch.add_argument("--threshold", default="0.15", help="p95 rise that stops (0.15, 15%%)")
        launch.add_argument("--user", default="", help="launch as this user (default: none)")
        launch.add_argument("--wait", action="store_true", help="wait for the end, print it")
        launch.add_argument("--timeout", type=float, default=0, help="give up waiting after s")
        show = sub.add_parser("show", help="a capacity run's verdict and steps")
        show.add_argument("capacity_id", type=int)
        show.add_argument("--json", action="store_true", help="the API's JSON")
        cancel = sub.add_parser("cancel", help="ask a capacity run to stop")
        cancel.add_argument("capacity_id", type=int)

    def handle(self, *args, **opts):
        try:
            return getattr(self, f"_{opts['action']}")(opts)
        except InvalidInput as exc:
            raise CommandError(str(exc)) from None

    def _get(self, capacity_id: int):
        from runs.models import CapacityRun

        run = CapacityRun.objects.filter(pk=capacity_id).first()
        if run is None:
            raise CommandError(f"no capacity run {capacity_id}")
        return run

    def _launch(self, opts):
        from runs.capacity_services import launch_capacity

        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"--user {opts['user']!r}: no such user")
        run = launch_capacity(
            host=opts["host"],
            template=opts["template"],
            max_desks=opts["max_desks"],
            keys=opts["keys"],
            threshold=opts["threshold"],
            user=user,
        )
        self.stdout.write(f"capacity run {run.pk} queued on {run.queue}")
        if not opts["wait"]:
            return
        deadline = time.monotonic() + opts["timeout"] if opts["timeout"] else None
        while run.is_active:
            if deadline is not None and time.monotonic() > deadline:
                raise CommandError(f"capacity run {run.pk} still {run.state} after the timeout")
            time.sleep(2)
            run.refresh_from_db()
        self._print(run)
        if run.result != Result.PASSED:
            raise SystemExit(2)

    def _show(self, opts):
        run = self._get(opts["capacity_id"])
        if opts["json"]:
            from runs.capacity_api import CapacityRunSerializer

            self.stdout.write(json.dumps(CapacityRunSerializer(run).data, default=str, indent=2))
            return
        self._print(run)

    def _cancel(self, opts):
        from runs.capacity_services import request_cancel

        run = request_cancel(self._get(opts["capacity_id"]))
        self.stdout.write(f"capacity run {run.pk}: cancel asked ({run.state})")

    def _print(self, run) -> None:
        from runs.capacity_presenters import step_rows

        self.stdout.write(
            f"capacity run {run.pk} on {run.host_name}: {run.state}"
            f"{f' {run.result}' if run.result else ''}"
        )
        self.stdout.write(run.verdict or "no capacity measured")
        if run.reason:
            self.stdout.write(f"stopped: {run.reason}")
        self.stdout.write("desks  inputs   p50 ms   p95 ms   p95 vs baseline")
        for s in step_rows(run):
            p50 = "-" if s["p50"] is None else f"{s['p50']:.0f}"
            p95 = "-" if s["p95"] is None else f"{s['p95']:.0f}"
            ratio = "-" if s["ratio"] is None else f"{s['ratio']:.2f}"
            self.stdout.write(f"{s['desks']:>5}  {s['inputs']:>6}  {p50:>7}  {p95:>7}   {ratio}")
