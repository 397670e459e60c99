"""Cancellation: a cancel mid-wait ends the run within a second, the step is cancelled, the
rest skipped, and finally still runs."""

import threading
import time

from atp_core.cancel import CancelToken
from tests.unit.fake_vm import run_yaml, statuses

SCENARIO = """
name: cancel
steps:
  - type: wait
    duration: 1h
  - type: exec_command
    command: echo never
finally:
  - type: exec_command
    command: echo teardown
"""


def test_cancel_mid_wait_ends_within_a_second_and_runs_finally():
    token = CancelToken()
    started = time.monotonic()
    timer = threading.Timer(0.5, token.cancel, args=("user pressed stop",))
    timer.start()
    report, events, rig = run_yaml(SCENARIO, cancel=token)
    elapsed = time.monotonic() - started
    assert elapsed < 0.5 + 1.0, elapsed
    assert statuses(report) == [("1", "cancelled"), ("2", "skipped"), ("F1", "passed")]
    assert report.result == "cancelled" and report.targets[0].result == "cancelled"
    assert [c[1] for c in rig.vm("a").calls if c[0] == "exec"] == ["echo teardown"]
    assert events[-1].data["result"] == "cancelled"


def test_cancel_with_a_polling_token_inside_wait_until():
    flag = {"stop": False}
    token = CancelToken(poll=lambda: flag["stop"], poll_interval=0.1)
    threading.Timer(0.4, lambda: flag.update(stop=True)).start()
    started = time.monotonic()
    report, _, _ = run_yaml(
        """
name: poll
steps:
  - type: wait_until
    timeout: 10m
    interval: 30s
    check: {type: verify_command, command: nope}
""",
        cancel=token,
    )
    assert time.monotonic() - started < 1.5
    assert statuses(report) == [("1", "cancelled")]


def test_cancel_before_start_skips_everything_but_finally():
    token = CancelToken()
    token.cancel()
    report, _, _ = run_yaml(SCENARIO, cancel=token)
    # the watcher may need one poll to see the cancel: the first step is cancelled or skipped
    assert report.targets[0].steps[1].status == "skipped"
    assert report.targets[0].steps[0].status in ("cancelled", "skipped")
    assert statuses(report)[-1] == ("F1", "passed")
    assert report.result == "cancelled"
