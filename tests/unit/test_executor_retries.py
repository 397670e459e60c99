"""Retries: a failing step is re-attempted after retry_delay; attempts are counted."""

from atp_core.protocol.qga import ExecResult
from tests.unit.fake_vm import FakeRig, run_yaml, statuses


def flaky(fail_times: int):
    calls = {"n": 0}

    def answer():
        calls["n"] += 1
        code = 1 if calls["n"] <= fail_times else 0
        return ExecResult(code, f"try {calls['n']}\n", "", 0.0)

    return answer, calls


def test_passes_on_the_third_attempt():
    rig = FakeRig()
    answer, calls = flaky(2)
    rig.vm("a").commands["flaky"] = answer
    report, events, _ = run_yaml(
        """
name: r
steps:
  - type: verify_command
    command: flaky
    retries: 3
    retry_delay: 10ms
""",
        rig=rig,
    )
    (step,) = report.targets[0].steps
    assert step.status == "passed" and step.attempts == 3 and calls["n"] == 3
    started = [e for e in events if e.type == "step_started"]
    assert [e.data["attempt"] for e in started] == [1, 2, 3]
    finished = [e for e in events if e.type == "step_finished"]
    assert len(finished) == 1 and finished[0].data["status"] == "passed"
    assert sum(1 for e in events if e.type == "step_log" and "retrying" in e.data["message"]) == 2


def test_retries_exhausted_is_failed_and_stops():
    rig = FakeRig()
    answer, calls = flaky(10)
    rig.vm("a").commands["flaky"] = answer
    report, _, _ = run_yaml(
        """
name: r
defaults: {retries: 1, retry_delay: 0}
steps:
  - type: verify_command
    command: flaky
  - type: wait
    duration: 0
""",
        rig=rig,
    )
    assert statuses(report) == [("1", "failed"), ("2", "skipped")]
    assert report.targets[0].steps[0].attempts == 2 and calls["n"] == 2
    assert report.result == "failed"
