"""What the executor hands to step handlers: targets, settings, scoped cancel tokens, the step call.

A ``ScopeToken`` is a ``CancelToken`` that also fires at a deadline and when its parent fires;
``fired_by`` says which scope ended it (``"cancel"``, ``"target"`` = the run timeout of a
target, ``"step"`` = the step's own timeout), so a handler only ever sees ``Cancelled`` and the
executor decides whether that means ``cancelled``, ``timed_out`` or ``error``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atp_core.cancel import CancelToken
from atp_core.errors import AtpError, InvalidInput

if TYPE_CHECKING:
    from atp_core.protocol import VmSession

    from .executor import Branch
    from .report import StepReport
    from .variables import Variables


@dataclass
class Target:
    """A VM to run on: display name, libvirt URI of its host, libvirt domain name, and the
    display path of its keyboard, mouse and screen (None: the scenario's ``display``)."""

    name: str
    host_uri: str
    vm: str
    host_name: str = "local"
    display: str | None = None


@dataclass
class VdiSettings:
    url: str
    username: str
    password: str
    verify_tls: bool = True

    def __repr__(self) -> str:  # never show the password
        return f"VdiSettings(url={self.url!r}, username={self.username!r})"


@dataclass
class ReferenceSpec:
    """A reference image for the screen checks: the PNG, its match areas (none = the whole
    image), the areas to ignore inside them (clocks, cursors), threshold and method.

    A reference name may hold several candidates (like openQA's needle tags): the executor's
    ``references`` map a name to one spec or to a list of them, and a check passes when any
    candidate matches; ``label`` names the candidate in the report."""

    path: str | Path | bytes  # a file, or the PNG itself (a screenshot not saved yet)
    areas: list[tuple[int, int, int, int]] = field(default_factory=list)
    threshold: float | None = None
    method: str | None = None
    exclude: list[tuple[int, int, int, int]] = field(default_factory=list)
    label: str = ""


class StepError(AtpError):
    """A step could not be carried out for a reason of its own (e.g. exec_command's expect)."""


class ScopeToken(CancelToken):
    """Cancelled when its parent is, or when its deadline passes; remembers which it was."""

    def __init__(
        self, parent: CancelToken | None, deadline: float | None = None, scope: str = "step"
    ) -> None:
        super().__init__(poll=lambda: False, poll_interval=0.05)
        self.parent = parent
        self.deadline = deadline
        self.scope = scope
        self.fired_by: str | None = None

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        parent = self.parent
        if parent is not None and parent.cancelled:
            self.fired_by = getattr(parent, "fired_by", None) or "cancel"
            self.cancel(parent.reason or "cancelled")
        elif self.deadline is not None and time.monotonic() >= self.deadline:
            self.fired_by = self.scope
            self.cancel(f"{self.scope} timeout")
        return self._event.is_set()

    def remaining(self, default: float = 3600.0) -> float:
        """Seconds left before this token (or an ancestor) reaches its deadline."""
        left = default
        token: CancelToken | None = self
        while token is not None:
            deadline = getattr(token, "deadline", None)
            if deadline is not None:
                left = min(left, deadline - time.monotonic())
            token = getattr(token, "parent", None)
        return max(0.0, left)


@dataclass
class StepCall:
    """One attempt of one step: its rendered arguments and everything a handler may use."""

    branch: Branch
    step_id: str
    kind: str
    args: dict[str, Any]
    model: Any
    token: ScopeToken
    report: StepReport
    variables: Variables
    timeout: float
    vm_override: str | None = None
    frame: Any = None
    value: Any = None  # what ``capture`` stores
    output_parts: list[str] = field(default_factory=list)

    # -- helpers for handlers -------------------------------------------------------------
    def remaining(self) -> float:
        return self.token.remaining(self.timeout)

    def session(self) -> VmSession:
        return self.branch.session(self.vm_override)

    def is_secret(self, value: Any) -> bool:
        """The step is ``sensitive`` or ``value`` holds a secret: show none of it, not even a
        part (masking hides whole values only)."""
        if getattr(self.model, "sensitive", None):
            return True
        masker = getattr(self.branch.run, "masker", None)
        return masker is not None and masker.touches(str(value))

    def vm_name(self) -> str:
        return self.branch.vm_name(self.vm_override)

    def log(self, message: str, level: str = "info") -> None:
        self.branch.emit("step_log", self.step_id, level=level, message=message)

    def output(self, text: str, stream: str = "stdout") -> None:
        if text:
            self.branch.emit("step_output", self.step_id, stream=stream, text=text)

    def say(self, text: str) -> None:
        """Add a line to the step's ``output`` (shown in the report)."""
        self.output_parts.append(text)

    def artifact(self, name: str, data: bytes, kind: str, mime: str) -> dict[str, Any]:
        return self.branch.save_artifact(self, name, data, kind, mime)

    def vdi(self):
        return self.branch.run.vdi_client()


def require_vm(call: StepCall) -> str:
    name = call.vm_name()
    if not name:
        raise InvalidInput(
            f"step {call.step_id} ({call.kind}) needs a VM, but target "
            f"{call.branch.target.name!r} has none; give the step a 'target:'"
        )
    return name
