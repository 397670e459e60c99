"""A failing step stops the target: later steps skipped, finally and group finally still run;
continue_on_error goes on but the result stays failed; every planned step is reported."""

from tests.unit.fake_vm import run_yaml, statuses

SCENARIO = """
name: stop
steps:
  - type: exec_command
    command: echo one
  - type: group
    steps:
      - type: verify_command
        command: "false-check"
      - type: exec_command
        command: echo never
    finally:
      - type: exec_command
        command: echo group-teardown
  - type: loop
    count: 2
    steps:
      - type: exec_command
        command: echo loop
finally:
  - type: exec_command
    command: echo teardown
"""


def test_failure_skips_the_rest_and_runs_teardowns():
    report, events, rig = run_yaml(SCENARIO)
    assert statuses(report) == [
        ("1", "passed"),
        ("2", "failed"),
        ("2.1", "failed"),
        ("2.2", "skipped"),
        ("2.F1", "passed"),
        ("3", "skipped"),
        ("3.1", "skipped"),
        ("F1", "passed"),
    ]
    assert report.result == "failed" and report.targets[0].result == "failed"
    assert "2.1" in report.targets[0].error
    ran = [c[1] for c in rig.vm("a").calls if c[0] == "exec"]
    assert ran == ["echo one", "false-check", "echo group-teardown", "echo teardown"]
    # a consumer that only listens sees every planned step end exactly once here
    finished = [e.step_id for e in events if e.type == "step_finished"]
    assert sorted(finished) == sorted(s.id for s in report.targets[0].steps)
    plan = next(e for e in events if e.type == "run_started").data["plan"]
    assert [p["id"] for p in plan] == ["1", "2", "2.1", "2.2", "2.F1", "3", "3.1", "F1"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type == "run_finished" and events[-1].data["result"] == "failed"


def test_continue_on_error_goes_on_but_fails_the_run():
    report, _, _ = run_yaml(
        """
name: c
steps:
  - type: verify_command
    command: nope
    continue_on_error: true
  - type: exec_command
    command: echo after
"""
    )
    assert statuses(report) == [("1", "failed"), ("2", "passed")]
    assert report.result == "failed"


def test_exec_expect_mismatch_is_error_verify_is_failed():
    report, _, _ = run_yaml(
        """
name: e
defaults: {continue_on_error: true}
steps:
  - type: exec_command
    command: nope
  - type: verify_command
    command: nope
  - type: verify_command
    command: echo hello
    expect: {stdout_regex: "^bye"}
"""
    )
    assert statuses(report) == [("1", "error"), ("2", "failed"), ("3", "failed")]
    assert "exit code 127, expected 0" in report.targets[0].steps[0].error
    assert "does not match" in report.targets[0].steps[2].error
    assert report.result == "error"  # the first problem was infrastructure-side
