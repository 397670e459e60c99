"""The QEMU guest agent: ping, info, exec with a deadline, files, shutdown."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import libvirt_qemu

from atp_core.cancel import NEVER, CancelToken
from atp_core.errors import AgentUnavailable, InvalidInput, OperationTimeout, ProtocolError
from atp_core.text import decode_guest_bytes

from .domain import DomainRef
from .wire import trace, wire_logger

FILE_CHUNK = 48 * 1024
SHELLS = ("auto", "sh", "cmd", "powershell")
AGENT_SETTLE_WINDOW = 30.0  # seconds after a reconnect during which "agent not connected" waits
AGENT_SETTLE_POLL = 0.2

# Kill a process and all its descendants on a POSIX guest with nothing but /proc, sh and awk
# (minimal guests have no pgrep/pkill). Stop first so nobody forks while the tree is listed;
# an orphan left alive would hold the output pipes open and the agent would never report the
# command as exited.
KILL_TREE_SH = """
kill -STOP ROOT 2>/dev/null
tree() {
  awk -v root=ROOT '
    FNR == 1 { split(FILENAME, part, "/"); pid = part[3] }
    /^PPid:/ { parent[pid] = $2 }
    END {
      n = 1; todo[1] = root; out = root
      for (i = 1; i <= n; i++)
        for (p in parent)
          if (parent[p] == todo[i] && !(p in seen)) { seen[p] = 1; todo[++n] = p; out = out " " p }
      print out
    }' /proc/[0-9]*/status 2>/dev/null
}
pids=$(tree); kill -STOP $pids 2>/dev/null
pids=$(tree); kill -KILL $pids 2>/dev/null
kill -KILL ROOT 2>/dev/null
true
"""


def decode_output(data: bytes) -> str:
    """Guest output as text: UTF-16 when it looks like it (Windows tools), UTF-8, then GBK
    (Chinese Windows), then UTF-8 with replacements; NUL characters replaced (U+FFFD)."""
    return decode_guest_bytes(data)


@dataclass
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    pid: int | None = None

    def to_dict(self) -> dict:
        return {"exit_code": self.exit_code, "stdout": self.stdout, "stderr": self.stderr}


class ExecTimeout(OperationTimeout):
    """A guest command outlived its timeout; it was killed. Carries what it printed so far."""

    def __init__(self, message: str, partial: ExecResult | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class GuestAgent:
    def __init__(self, domain: DomainRef, timeout: float = 10.0) -> None:
        self.domain = domain
        self.timeout = timeout
        self._os: str | None = None

    # -- raw command ------------------------------------------------------------------------
    def command(self, name: str, arguments: dict | None = None, timeout: float | None = None):
        """Send one agent command and return its ``return`` value."""
        msg: dict[str, Any] = {"execute": name}
        if arguments is not None:
            msg["arguments"] = arguments
        wait = max(1, int(round(timeout if timeout is not None else self.timeout)))
        settle_until: float | None = None
        wire = wire_logger("qga", self.domain.name)
        text = json.dumps(msg)
        while True:
            trace(wire, ">", text)
            try:
                reply = self.domain.call(
                    name, lambda d: libvirt_qemu.qemuAgentCommand(d, text, wait, 0)
                )
                trace(wire, "<", str(reply))
                break
            except AgentUnavailable as exc:
                # Just after a reconnect to a restarted libvirtd, the daemon may not have
                # reattached to the agent channel yet ("not connected": nothing was sent, so
                # a retry is safe). Wait for it, within the command's own timeout.
                if "not connected" not in str(exc) or not self._reconnected_recently():
                    raise
                if settle_until is None:
                    settle_until = time.monotonic() + wait
                if time.monotonic() >= settle_until:
                    raise
                time.sleep(AGENT_SETTLE_POLL)
        try:
            data = json.loads(reply)
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"{self.domain.name}: {name}: unreadable reply") from exc
        if "error" in data:
            desc = data["error"].get("desc", data["error"])
            raise ProtocolError(f"{self.domain.name}: {name}: {desc}")
        return data.get("return")

    def _reconnected_recently(self) -> bool:
        at = getattr(self.domain.connection, "reconnected_at", None)
        return at is not None and time.monotonic() - at < AGENT_SETTLE_WINDOW

    def ping(self, timeout: float | None = None) -> None:
        self.command("guest-ping", timeout=timeout)

    def sync(self) -> None:
        token = int(time.time() * 1000) % 2**31
        if self.command("guest-sync", {"id": token}) != token:
            raise ProtocolError(f"{self.domain.name}: guest-sync answered another id")

    def info(self) -> dict:
        return self.command("guest-info")

    def osinfo(self) -> dict:
        return self.command("guest-get-osinfo")

    def os_family(self) -> str:
        """``windows`` or ``linux`` (anything not Windows is treated as POSIX)."""
        if self._os is None:
            try:
                os_id = str(self.osinfo().get("id", "")).lower()
            except ProtocolError:
                os_id = ""
            self._os = "windows" if "mswindows" in os_id or "windows" in os_id else "linux"
        return self._os

    # -- exec -------------------------------------------------------------------------------
    def _argv(self, command: str | None, argv: list[str] | None, shell: str) -> list[str]:
        if (command is None) == (argv is None):
            raise InvalidInput("exec: give exactly one of command (a shell string) or argv")
        if shell not in SHELLS:
            raise InvalidInput(f"exec: shell {shell!r}: allowed {', '.join(SHELLS)}")
        if argv is not None:
            if not argv or not all(isinstance(a, str) for a in argv):
                raise InvalidInput("exec: argv must be a non-empty list of strings")
            return list(argv)
        if shell == "auto":
            shell = "cmd" if self.os_family() == "windows" else "sh"
        if shell == "sh":
            return ["/bin/sh", "-c", command]
        if shell == "cmd":
            return ["cmd.exe", "/c", command]
        return ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", command]

    def exec(
        self,
        command: str | None = None,
        argv: list[str] | None = None,
        *,
        shell: str = "auto",
        env: dict[str, str] | None = None,
        stdin: str | bytes | None = None,
        timeout: float = 60.0,
        cancel: CancelToken | None = None,
    ) -> ExecResult:
        """Run a command in the guest and wait for it; on timeout kill it and raise ExecTimeout."""
        cancel = cancel or NEVER
        args = self._argv(command, argv, shell)
        request: dict[str, Any] = {"path": args[0], "arg": args[1:], "capture-output": True}
        if env:
            request["env"] = [f"{k}={v}" for k, v in env.items()]
        if stdin is not None:
            raw = stdin.encode() if isinstance(stdin, str) else stdin
            request["input-data"] = base64.b64encode(raw).decode()
        started = time.monotonic()
        # Each agent call is bounded by what is left of the command's own timeout (at least
        # 1 s, libvirt's unit), so a hung agent cannot hold a short step for self.timeout.
        pid = self.command("guest-exec", request, timeout=min(self.timeout, max(1.0, timeout)))[
            "pid"
        ]
        deadline = started + timeout
        delay = 0.005
        while True:
            left = deadline - time.monotonic()
            status = self.command(
                "guest-exec-status", {"pid": pid}, timeout=min(self.timeout, max(1.0, left + 1))
            )
            if status.get("exited"):
                return self._result(status, started, pid)
            if time.monotonic() >= deadline:
                partial = self._kill(pid, started)
                raise ExecTimeout(
                    f"{self.domain.name}: command {' '.join(args)!r} still running after "
                    f"{timeout:g} s; killed (pid {pid})",
                    partial,
                )
            try:
                cancel.wait(min(delay, max(0.0, deadline - time.monotonic())))
            except Exception:
                self._kill(pid, started)
                raise
            delay = min(delay * 2, 0.1)

    def _result(self, status: dict, started: float, pid: int, timed_out=False) -> ExecResult:
        out = base64.b64decode(status.get("out-data", "") or "")
        err = base64.b64decode(status.get("err-data", "") or "")
        code = status.get("exitcode")
        if code is None:
            code = -int(status.get("signal", 0) or 0) or -1
        return ExecResult(
            exit_code=code,
            stdout=decode_output(out),
            stderr=decode_output(err),
            duration=time.monotonic() - started,
            timed_out=timed_out,
            pid=pid,
        )

    def _kill(self, pid: int, started: float) -> ExecResult | None:
        """Kill a guest process (and its children); return its final status if it was reaped."""
        if self.os_family() == "windows":
            killer = ["taskkill.exe", "/F", "/T", "/PID", str(pid)]
        else:
            killer = ["/bin/sh", "-c", KILL_TREE_SH.replace("ROOT", str(int(pid)))]
        try:
            self.command("guest-exec", {"path": killer[0], "arg": killer[1:]})
        except (ProtocolError, AgentUnavailable):
            return None
        end = time.monotonic() + 2
        while time.monotonic() < end:
            try:
                status = self.command("guest-exec-status", {"pid": pid})
            except ProtocolError:
                return None
            if status.get("exited"):
                return self._result(status, started, pid, timed_out=True)
            time.sleep(0.02)
        return None

    # -- files ------------------------------------------------------------------------------
    def file_read(
        self,
        path: str,
        *,
        offset: int = 0,
        size: int | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,
        cancel: CancelToken | None = None,
    ) -> bytes:
        """The file's bytes from ``offset`` to its end, or at most ``size`` of them.

        ``max_bytes`` refuses a file that is longer (``/dev/zero``, a pipe that never ends)
        instead of growing the process without bound; ``timeout`` bounds the whole read and
        ``cancel`` is checked between chunks."""
        if offset < 0 or (size is not None and size < 0):
            raise InvalidInput(f"file_read {path}: offset and size must not be negative")
        cancel = cancel or NEVER
        deadline = None if timeout is None else time.monotonic() + timeout
        handle = self.command("guest-file-open", {"path": path, "mode": "rb"}, timeout=timeout)
        try:
            if offset:
                self.command("guest-file-seek", {"handle": handle, "offset": offset, "whence": 0})
            chunks = []
            total = 0
            left = size
            while left is None or left > 0:
                cancel.raise_if_cancelled()
                wait = None
                if deadline is not None:
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        raise OperationTimeout(
                            f"{self.domain.name}: file_read {path}: not read within {timeout:g} s"
                            f" ({total} bytes so far)"
                        )
                    wait = max(1.0, min(self.timeout, wait))
                count = FILE_CHUNK if left is None else min(FILE_CHUNK, left)
                part = self.command(
                    "guest-file-read", {"handle": handle, "count": count}, timeout=wait
                )
                data = base64.b64decode(part.get("buf-b64", ""))
                total += len(data)
                if max_bytes is not None and total > max_bytes:
                    raise InvalidInput(
                        f"file_read {path}: the file is larger than {max_bytes} bytes (the"
                        " step's max_bytes); reading stopped"
                    )
                chunks.append(data)
                if left is not None:
                    left -= len(data)
                if part.get("eof") or not part.get("count"):
                    break
            return b"".join(chunks)
        finally:
            try:
                self.command("guest-file-close", {"handle": handle}, timeout=5.0)
            except (ProtocolError, AgentUnavailable, OperationTimeout):
                pass  # the agent closes its handles when it restarts

    def file_size(self, path: str) -> int:
        handle = self.command("guest-file-open", {"path": path, "mode": "rb"})
        try:
            pos = self.command("guest-file-seek", {"handle": handle, "offset": 0, "whence": 2})
            return int(pos["position"])
        finally:
            self.command("guest-file-close", {"handle": handle})

    def file_write(self, path: str, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        handle = self.command("guest-file-open", {"path": path, "mode": "wb"})
        try:
            for i in range(0, len(raw), FILE_CHUNK):
                chunk = base64.b64encode(raw[i : i + FILE_CHUNK]).decode()
                self.command("guest-file-write", {"handle": handle, "buf-b64": chunk})
            self.command("guest-file-flush", {"handle": handle})
        finally:
            self.command("guest-file-close", {"handle": handle})

    # -- power ------------------------------------------------------------------------------
    def _shutdown(self, mode: str) -> None:
        try:
            self.command("guest-shutdown", {"mode": mode})
        except (ProtocolError, AgentUnavailable, OperationTimeout):
            pass  # the agent often goes away before it can answer

    def shutdown(self) -> None:
        self._shutdown("powerdown")

    def reboot(self) -> None:
        self._shutdown("reboot")
