"""An agent that does not answer makes the step error (infrastructure), never failed; a wrong
key or unknown variable is an error naming the problem; an exception inside a handler stays in
its step."""

from tests.unit.fake_vm import FakeRig, run_yaml, statuses


def test_agent_not_answering_is_error_not_failed():
    rig = FakeRig()
    rig.vm("a").agent.answers = False
    report, _, _ = run_yaml(
        """
name: a
defaults: {continue_on_error: true}
steps:
  - type: guest_ping
  - type: verify_command
    command: echo hi
  - type: wait_until
    timeout: 600ms
    interval: 100ms
    check: {type: guest_ping}
""",
        rig=rig,
    )
    assert statuses(report) == [("1", "error"), ("2", "error"), ("3", "error")]
    assert "guest agent" in report.targets[0].steps[0].error
    assert report.result == "error"


def test_unknown_variable_is_an_error_naming_it():
    report, _, _ = run_yaml(
        """
name: v
variables: {known: 1}
steps:
  - type: exec_command
    command: echo ${missing.field}
"""
    )
    step = report.targets[0].steps[0]
    assert step.status == "error"
    assert "${missing.field}" in step.error and "known" in step.error


def test_a_crashing_handler_only_errs_its_step():
    rig = FakeRig()

    def boom():
        raise RuntimeError("handler bug")

    rig.vm("a").commands["boom"] = boom
    report, _, _ = run_yaml(
        """
name: b
steps:
  - type: exec_command
    command: boom
finally:
  - type: exec_command
    command: echo still-here
""",
        rig=rig,
    )
    assert statuses(report) == [("1", "error"), ("F1", "passed")]
    assert "RuntimeError: handler bug" in report.targets[0].steps[0].error


def test_sink_exceptions_do_not_break_the_run():
    from atp_core.orchestrator import Target, load_scenario, run_scenario

    seen = []

    def bad_sink(event):
        seen.append(event.type)
        raise ValueError("sink down")

    rig = FakeRig()
    report = run_scenario(
        load_scenario("name: s\nsteps:\n  - type: exec_command\n    command: echo ok\n"),
        [Target("local/a", "test:///", "a")],
        sink=bad_sink,
        artifact_dir="/tmp/atp-unit-artifacts",
        session_factory=rig,
    )
    assert report.result == "passed"
    assert seen[0] == "run_started" and seen[-1] == "run_finished"
