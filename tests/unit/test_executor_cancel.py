"""Cancellation: a cancel mid-wait ends the step at once (cancelled), the rest is skipped and
finally still runs; a cancel during teardown lets it finish; an abort (``run_scenario(abort=)``,
the CLI's second Ctrl-C) cancels the teardown too.

Each run goes in a thread joined with a generous deadline: a wait that ignored its cancel would
run for its whole hour. The cancels are sent when a step starts, never after a fixed delay."""

import threading

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

TEARDOWN = """
name: teardown
steps:
  - type: wait
    duration: 10ms
finally:
  - type: wait
    duration: {first}
  - type: wait
    duration: 10ms
"""


def run_bounded(text: str, **kwargs):
    """run_yaml in a thread; fails if the run has not ended within 60 s."""
    done = {}
    thread = threading.Thread(target=lambda: done.update(r=run_yaml(text, **kwargs)), daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the run did not end within 60 s of its cancel"
    return done["r"]


def when_started(step_id: str, action):
    def hook(event):
        if event.type == "step_started" and event.step_id == step_id:
            action()

    return hook


def test_cancel_mid_wait_ends_the_step_and_runs_finally():
    token = CancelToken()
    report, events, rig = run_bounded(
        SCENARIO, cancel=token, on_event=when_started("1", lambda: token.cancel("stop pressed"))
    )
    assert statuses(report) == [("1", "cancelled"), ("2", "skipped"), ("F1", "passed")]
    assert report.result == "cancelled" and report.targets[0].result == "cancelled"
    assert [c[1] for c in rig.vm("a").calls if c[0] == "exec"] == ["echo teardown"]
    assert events[-1].data["result"] == "cancelled"


def test_cancel_with_a_polling_token_inside_wait_until():
    flag = {"stop": False}
    token = CancelToken(poll=lambda: flag["stop"], poll_interval=0.1)
    report, _, _ = run_bounded(
        """
name: poll
steps:
  - type: wait_until
    timeout: 10m
    interval: 30s
    check: {type: verify_command, command: nope}
""",
        cancel=token,
        on_event=when_started("1", lambda: flag.update(stop=True)),
    )
    assert statuses(report) == [("1", "cancelled")]


def test_cancel_before_start_skips_everything_but_finally():
    token = CancelToken()
    token.cancel()
    report, _, _ = run_bounded(SCENARIO, cancel=token)
    # the watcher may need one poll to see the cancel: the first step is cancelled or skipped
    assert report.targets[0].steps[1].status == "skipped"
    assert report.targets[0].steps[0].status in ("cancelled", "skipped")
    assert statuses(report)[-1] == ("F1", "passed")
    assert report.result == "cancelled"


def test_a_cancel_during_teardown_lets_the_teardown_finish():
    """Teardown is not interrupted by a cancel that comes while it runs: its steps run to their
    end and the run keeps the result of its steps (here: passed)."""
    token = CancelToken()
    report, _, _ = run_bounded(
        TEARDOWN.format(first="400ms"),
        cancel=token,
        on_event=when_started("F1", lambda: token.cancel("stop pressed during teardown")),
    )
    assert token.cancelled
    assert statuses(report) == [("1", "passed"), ("F1", "passed"), ("F2", "passed")]
    assert report.targets[0].steps[1].duration >= 0.4  # the wait ran whole
    assert report.result == "passed"


def test_an_abort_cancels_the_running_teardown_step_and_skips_the_rest():
    token, abort = CancelToken(), CancelToken()

    def second_ctrl_c():
        token.cancel("cancelled from the keyboard")
        abort.cancel("aborted from the keyboard")

    report, events, _ = run_bounded(
        TEARDOWN.format(first="10m"),
        cancel=token,
        abort=abort,
        on_event=when_started("F1", second_ctrl_c),
    )
    assert statuses(report) == [("1", "passed"), ("F1", "cancelled"), ("F2", "skipped")]
    assert report.targets[0].steps[1].error == "aborted from the keyboard"
    assert events[-1].type == "run_finished"


def test_an_abort_alone_also_cancels_the_steps():
    abort = CancelToken()
    report, _, _ = run_bounded(
        SCENARIO, abort=abort, on_event=when_started("1", lambda: abort.cancel("aborted"))
    )
    assert statuses(report) == [("1", "cancelled"), ("2", "skipped"), ("F1", "skipped")]
    assert report.result == "cancelled"
