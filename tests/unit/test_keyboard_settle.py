"""The typing settle (``keyboard_flow.AgentSettle``) waits until the guest's runnable tasks
are back to its floor, learns a busy guest's floor instead of waiting at every settle, falls
back to a ping without ``/proc``, stops calling an agent that does not answer, and closes its
file handle."""

import base64

import pytest

from atp_core.errors import AgentUnavailable, ProtocolError
from atp_core.protocol import keyboard_flow


class FakeAgent:
    """guest-file-* on /proc/loadavg, whose runnable count follows ``runnable`` (one per read,
    the last one repeated)."""

    def __init__(self, runnable: list[int], proc: bool = True, answers: bool = True) -> None:
        self.runnable = list(runnable)
        self.proc = proc
        self.answers = answers
        self.calls: list[str] = []
        self.open_handles: set[int] = set()

    def command(self, name: str, arguments: dict | None = None, timeout=None):
        self.calls.append(name)
        if not self.answers:
            raise AgentUnavailable("vm-x: guest agent is not connected")
        if name == "guest-file-open":
            if not self.proc:
                raise ProtocolError("vm-x: guest-file-open: No such file or directory")
            self.open_handles.add(7)
            return 7
        if name == "guest-file-seek":
            assert arguments == {"handle": 7, "offset": 0, "whence": 0}
            return {"position": 0, "eof": False}
        if name == "guest-file-read":
            count = self.runnable.pop(0) if len(self.runnable) > 1 else self.runnable[0]
            text = f"0.52 0.31 0.20 {count}/87 1234\n".encode()
            return {"count": len(text), "buf-b64": base64.b64encode(text).decode(), "eof": True}
        if name == "guest-ping":
            return {}
        if name == "guest-file-close":
            self.open_handles.discard(arguments["handle"])
            return {}
        raise AssertionError(f"unexpected agent command {name}")

    def ping(self) -> None:
        self.command("guest-ping")


def settle_with(agent: FakeAgent) -> keyboard_flow.AgentSettle:
    settle = keyboard_flow.AgentSettle.__new__(keyboard_flow.AgentSettle)
    settle.agent, settle.answering, settle.handle, settle.floor = agent, True, None, None
    return settle


def test_an_idle_guest_settles_after_one_read_and_the_handle_is_closed():
    agent = FakeAgent([1])
    settle = settle_with(agent)
    settle()
    assert agent.calls == ["guest-file-open", "guest-file-seek", "guest-file-read"]
    settle.close()
    assert agent.open_handles == set()


def test_the_settle_waits_while_programs_woken_by_the_keys_are_runnable():
    agent = FakeAgent([3, 2, 2, 1])
    settle = settle_with(agent)
    settle()
    assert agent.calls.count("guest-file-read") == 4
    assert settle.floor == 1


def test_a_guest_kept_busy_by_its_own_program_raises_the_floor_once(monkeypatch):
    monkeypatch.setattr(keyboard_flow, "IDLE_WAIT", 0.05)
    agent = FakeAgent([3, 2])  # a busy loop of the guest's own: never below 2
    settle = settle_with(agent)
    settle()
    assert settle.floor == 2
    reads = agent.calls.count("guest-file-read")
    settle()  # the busy loop is the floor now: one read suffices
    assert agent.calls.count("guest-file-read") == reads + 1


def test_without_proc_the_settle_is_a_ping():
    agent = FakeAgent([1], proc=False)
    settle = settle_with(agent)
    settle()
    settle()
    assert agent.calls == ["guest-file-open", "guest-ping", "guest-ping"]
    settle.close()
    assert "guest-file-close" not in agent.calls


@pytest.mark.parametrize("proc", [True, False])
def test_an_agent_that_does_not_answer_is_not_called_again(proc):
    agent = FakeAgent([1], proc=proc, answers=False)
    settle = settle_with(agent)
    settle()
    settle()
    settle.close()
    assert agent.calls == ["guest-file-open"]
