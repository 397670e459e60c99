"""``poll_until``, the one poll loop of the waiting step handlers: it tries until an answer,
waits on the step's token between tries (a cancel ends the wait), keeps the margin for the
failure report and makes its last try at the deadline."""

from __future__ import annotations

import threading
import time

import pytest

from atp_core.cancel import CancelToken
from atp_core.errors import Cancelled, CheckFailed
from atp_core.orchestrator.polling import poll_until
from atp_core.orchestrator.steps import input as input_steps
from atp_core.orchestrator.steps import screen, text, vdi, waits


class Call:
    def __init__(self, remaining: float, token: CancelToken | None = None) -> None:
        self.token = token or CancelToken()
        self._until = time.monotonic() + remaining

    def remaining(self) -> float:
        return max(0.0, self._until - time.monotonic())


def test_the_first_answer_ends_the_poll():
    answer, polling = poll_until(
        Call(5.0), lambda p: "seen" if p.tries == 3 else None, interval=0.01
    )
    assert (answer, polling.tries) == ("seen", 3)


def test_no_answer_by_the_deadline_keeps_the_margin_and_tries_at_the_deadline():
    tries_at: list[float] = []

    def attempt(polling):
        tries_at.append(polling.deadline - time.monotonic())
        return None

    answer, polling = poll_until(Call(1.0), attempt, interval=0.15, margin=0.4)
    assert answer is None and polling.tries == len(tries_at) >= 2
    assert polling.deadline - polling.started == pytest.approx(0.6, abs=0.05), "margin kept"
    assert tries_at[-1] <= 0.0, "the last wait is cut to the deadline and tried once more"
    assert all(left > 0 for left in tries_at[:-1]), "and nothing after it"


def test_at_least_holds_when_the_step_is_almost_out_of_time():
    _, polling = poll_until(Call(0.1), lambda p: None, interval=0.05, margin=1.0, at_least=0.3)
    assert polling.deadline - polling.started == pytest.approx(0.3, abs=0.02)


def test_a_cancel_ends_the_wait_at_once():
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        poll_until(Call(600.0, token), lambda p: None, interval=300.0)
    assert time.monotonic() - started < 60, "the 300 s wait ended on cancel"


def test_an_attempt_may_end_the_poll_with_a_definite_failure():
    def attempt(polling):
        raise CheckFailed("the guest saw 'x', expected 'a'")

    with pytest.raises(CheckFailed, match="expected 'a'"):
        poll_until(Call(5.0), attempt, interval=0.01)


def test_the_waiting_handlers_use_it_and_sleep_nowhere_themselves():
    import inspect

    for module in (screen, text, waits, vdi, input_steps):
        source = inspect.getsource(module)
        assert "time.sleep" not in source and "token.wait(interval)" not in source, module
        assert "poll_until(" in source, module


class Booting:
    """A power state that turns ``running`` on the ``after``-th read."""

    def __init__(self, vm, after: int) -> None:
        self.vm, self.after, self.reads = vm, after, 0

    def state(self):
        self.reads += 1
        return "running" if self.reads >= self.after else "shut off"


def test_verify_domain_status_polls_until_the_state_is_reached():
    from tests.unit.fake_vm import FakeRig, run_yaml, statuses

    rig = FakeRig()
    vm = rig.vm("a")
    vm.power = Booting(vm, after=3)
    report, _, _ = run_yaml(
        """
name: d
steps:
  - {type: verify_domain_status, expected: running, interval: 50ms, timeout: 5s}
""",
        rig=rig,
    )
    assert statuses(report) == [("1", "passed")] and vm.power.reads == 3


def test_verify_domain_status_fails_with_the_last_state_seen():
    from tests.unit.fake_vm import FakeRig, run_yaml, statuses

    rig = FakeRig()
    vm = rig.vm("a")
    vm.power = Booting(vm, after=10**6)
    report, _, _ = run_yaml(
        """
name: d
steps:
  - {type: verify_domain_status, expected: running, interval: 100ms, timeout: 800ms}
""",
        rig=rig,
    )
    assert statuses(report) == [("1", "failed")]
    assert "is 'shut off', not 'running' after 0.8 s" in report.targets[0].steps[0].error
    assert vm.power.reads >= 2


def test_wait_until_counts_its_attempts():
    from tests.unit.fake_vm import FakeRig, run_yaml, statuses

    rig = FakeRig()
    vm = rig.vm("a")
    vm.power = Booting(vm, after=4)
    report, _, _ = run_yaml(
        """
name: w
steps:
  - type: wait_until
    interval: 50ms
    timeout: 5s
    check: {type: verify_domain_status, expected: running, timeout: 1ms}
""",
        rig=rig,
    )
    assert statuses(report) == [("1", "passed")]
    assert "passed after 4 attempt(s)" in report.targets[0].steps[0].output
