"""Timeouts: a step's own timeout makes it error (the guest command is stopped); the run timeout
of a target makes the target timed_out with the rest skipped and finally run; a long wait is not
cut by the default step timeout."""

from tests.unit.fake_vm import run_yaml, statuses


def test_step_timeout_is_error_and_stops():
    report, _, _ = run_yaml(
        """
name: t
steps:
  - type: exec_command
    command: sleep 30
    timeout: 300ms
  - type: exec_command
    command: echo never
"""
    )
    assert statuses(report) == [("1", "error"), ("2", "skipped")]
    assert "timed out after 0.3 s" in report.targets[0].steps[0].error
    assert report.result == "error"


def test_run_timeout_is_timed_out_and_finally_runs():
    report, _, rig = run_yaml(
        """
name: t
timeout: 500ms
steps:
  - type: wait
    duration: 1m
  - type: exec_command
    command: echo never
finally:
  - type: exec_command
    command: echo teardown
"""
    )
    # the 1 min wait was cut (a whole wait would have passed)
    assert statuses(report) == [("1", "error"), ("2", "skipped"), ("F1", "passed")]
    assert report.result == "timed_out"
    assert "run timeout" in report.targets[0].steps[0].error


def test_wait_longer_than_the_default_timeout_is_not_cut():
    report, _, _ = run_yaml(
        """
name: t
defaults: {timeout: 200ms}
steps:
  - type: wait
    duration: 600ms
"""
    )
    assert statuses(report) == [("1", "passed")]
    assert report.targets[0].steps[0].duration >= 0.6
