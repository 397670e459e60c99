"""A fake ``VmSession`` for the executor's control-flow tests: no libvirt, scripted answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from atp_core.cancel import NEVER
from atp_core.errors import AgentUnavailable, OperationTimeout
from atp_core.protocol.keyboard import parse_key, text_to_chords
from atp_core.protocol.qga import ExecResult, ExecTimeout


@dataclass
class FakeAgent:
    vm: FakeVm
    answers: bool = True

    def exec(
        self,
        command=None,
        argv=None,
        *,
        shell="auto",
        env=None,
        stdin=None,
        timeout=60.0,
        cancel=None,
    ):
        cancel = cancel or NEVER
        text = command if command is not None else " ".join(argv or [])
        self.vm.calls.append(("exec", text))
        if not self.answers:
            raise AgentUnavailable(f"{self.vm.name}: guest agent not available (guest-exec)")
        if text.startswith("sleep "):
            seconds = float(text.split()[1])
            deadline = time.monotonic() + min(seconds, timeout)
            while time.monotonic() < deadline:
                cancel.wait(min(0.02, max(0.0, deadline - time.monotonic())))
            if seconds > timeout:
                raise ExecTimeout(f"command {text!r} still running after {timeout:g} s; killed")
            return ExecResult(0, "", "", seconds)
        handler = self.vm.commands.get(text)
        if handler is None:
            if text.startswith("echo "):
                return ExecResult(0, text[5:] + "\n", "", 0.0)
            return ExecResult(127, "", f"sh: {text}: not found\n", 0.0)
        return handler() if callable(handler) else handler

    def ping(self, timeout=None):
        self.vm.calls.append(("ping", None))
        if not self.answers:
            raise OperationTimeout(f"{self.vm.name}: guest agent timed out (guest-ping)")

    def file_write(self, path, data):
        self.vm.files[path] = data.encode() if isinstance(data, str) else data

    def file_read(self, path, offset=0, *, max_bytes=None, timeout=None, cancel=None):
        if path not in self.vm.files:
            from atp_core.errors import ProtocolError

            raise ProtocolError(f"{self.vm.name}: guest-file-open: No such file {path}")
        data = self.vm.files[path][offset:]
        if max_bytes is not None and len(data) > max_bytes:
            from atp_core.errors import InvalidInput

            raise InvalidInput(f"file_read {path}: the file is larger than {max_bytes} bytes")
        return data


@dataclass
class FakeKeyboard:
    vm: FakeVm

    def send_key(self, key, hold_ms=None):
        self.vm.keys.append("+".join(parse_key(key)))

    def send_text(self, text, interval_ms=None, hold_ms=None, cancel=None):
        for chord in text_to_chords(text):
            (cancel or NEVER).raise_if_cancelled()
            self.vm.keys.append("+".join(chord))
        self.vm.typed += text


@dataclass
class FakeInputLog:
    vm: FakeVm

    def mark(self):
        return (len(self.vm.typed), len(self.vm.keys))

    def typed_text_since(self, mark):
        return self.vm.typed[mark[0] :]

    def pressed_keys_since(self, mark):
        return [k.replace("shift+", "") if len(k) > 6 else k for k in self.vm.keys[mark[1] :]]


@dataclass
class FakePower:
    vm: FakeVm

    def state(self):
        return self.vm.state

    def start(self, wait=True, timeout=120, cancel=None):
        self.vm.state = "running"


@dataclass
class FakeScreen:
    """Serves ``frames`` (PNG bytes) one per screenshot; the last one repeats."""

    vm: FakeVm
    frames: list = field(default_factory=list)
    taken: int = 0

    def screenshot(self):
        frame = self.frames[min(self.taken, len(self.frames) - 1)]
        self.taken += 1
        return frame


@dataclass
class FakeMouse:
    """Records ``("click", x, y, button, double)`` and moves in ``vm.calls``."""

    vm: FakeVm

    def click(self, x=None, y=None, button="left", double=False):
        self.vm.calls.append(("click", x, y, button, double))

    def move(self, x, y):
        self.vm.calls.append(("move", x, y))

    def drag(self, start, end, button="left", steps=8, hold=None):
        self.vm.calls.append(("drag", tuple(start), tuple(end), button, steps))
        if hold is not None:
            self.vm.calls.append(("drag-hold", hold))


@dataclass
class FakeVm:
    name: str
    state: str = "running"
    typed: str = ""
    keys: list = field(default_factory=list)
    files: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    commands: dict[str, ExecResult | Callable[[], ExecResult]] = field(default_factory=dict)

    def __post_init__(self):
        self.agent = FakeAgent(self)
        self.keyboard = FakeKeyboard(self)
        self.input_log = FakeInputLog(self)
        self.power = FakePower(self)
        self.screen = FakeScreen(self)
        self.mouse = FakeMouse(self)
        self.uuid = f"uuid-{self.name}"


class FakeRig:
    """``session_factory`` for ``run_scenario``: one FakeVm per (host, name), made on demand."""

    def __init__(self) -> None:
        self.vms: dict[str, FakeVm] = {}
        self.lock = threading.Lock()
        self.opened: list[tuple[str, str]] = []

    def vm(self, name: str) -> FakeVm:
        with self.lock:
            if name not in self.vms:
                self.vms[name] = FakeVm(name)
            return self.vms[name]

    def __call__(self, host_uri: str, vm: str) -> FakeVm:
        self.opened.append((host_uri, vm))
        return self.vm(vm)


def run_yaml(text: str, vms=("a",), *, rig: FakeRig | None = None, on_event=None, **kwargs):
    """Run a scenario given as YAML on fake VMs; returns (report, events, rig).
    ``on_event(event)`` is called with each event as it is emitted."""
    from atp_core.orchestrator import Target, load_scenario, run_scenario

    rig = rig or FakeRig()
    events: list = []
    lock = threading.Lock()

    def sink(event):
        with lock:
            events.append(event)
        if on_event is not None:
            on_event(event)

    kwargs.setdefault("artifact_dir", "/tmp/atp-unit-artifacts")
    report = run_scenario(
        load_scenario(text),
        [Target(f"local/{vm}", "test:///fake", vm) for vm in vms],
        sink=sink,
        session_factory=rig,
        **kwargs,
    )
    return report, events, rig


def statuses(report, target: int = 0) -> list[tuple[str, str]]:
    return [(s.id, s.status) for s in report.targets[target].steps]
