"""Run a function in a kept child process under a CPU-time budget.

The web server validates scenario text typed by its users. The loader bounds every size it
knows of, but a validation must never be able to freeze the server (one process serves every
page, the API and the websockets, under one GIL), so the web validates through a
:class:`BudgetedWorker`: a child process, started once, that runs one call at a time under
``RLIMIT_CPU``; a call that spends more than its CPU budget (the kernel ends the child) or
more than its wall-clock budget (the parent ends it) raises :class:`BudgetExceeded`, and the
next call starts a fresh child.

Calls and results are JSON, one line each way. ``target`` is ``"module:function"``.

The child: ``python -m atp_core.orchestrator.budget module:function``.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import resource
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent.parent
_READY = "ready"


class BudgetExceeded(Exception):
    """The call spent more CPU or wall time than its budget, or the child died."""


class BudgetedWorker:
    """A kept child process running ``target`` under a CPU budget, one call at a time."""

    def __init__(
        self,
        target: str,
        *,
        cpu_seconds: int = 2,
        wall_seconds: float = 10.0,
        start_seconds: float = 60.0,
    ) -> None:
        self.target = target
        self.cpu_seconds = max(1, int(cpu_seconds))
        self.wall_seconds = wall_seconds
        self.start_seconds = start_seconds
        self._proc: subprocess.Popen | None = None
        self._buffer = b""
        self._lock = threading.Lock()

    def call(self, *args: object) -> object:
        """``target(*args)`` in the child; raises BudgetExceeded or RuntimeError (its error)."""
        if not self._lock.acquire(timeout=self.wall_seconds):
            raise BudgetExceeded(f"no validation slot within {self.wall_seconds:g} s")
        try:
            proc = self._ensure_started()
            request = json.dumps({"args": list(args), "cpu": self.cpu_seconds}) + "\n"
            try:
                proc.stdin.write(request.encode())
                proc.stdin.flush()
            except OSError:
                self._stop()
                raise BudgetExceeded("the validation process ended") from None
            line = self._read_line(self.wall_seconds)
            if line is None:
                self._stop()
                raise BudgetExceeded(
                    f"the call needed more than {self.cpu_seconds} s of CPU"
                    f" or {self.wall_seconds:g} s in all"
                )
            reply = json.loads(line)
            if "error" in reply:
                raise RuntimeError(reply["error"])
            return reply["result"]
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ensure_started(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "atp_core.orchestrator.budget", self.target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=str(_ROOT),
        )
        self._buffer = b""
        if self._read_line(self.start_seconds) != _READY:
            self._stop()
            raise BudgetExceeded(f"the worker for {self.target} did not start")
        return self._proc

    def _read_line(self, timeout: float) -> str | None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # the child ended (SIGXCPU, crash)
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _serve(target: str) -> None:
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")  # the protocol's own channel
    sys.stdout = sys.stderr  # whatever the target prints stays off it
    function = _resolve(target)
    out.write(_READY + "\n")
    out.flush()
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    for line in sys.stdin:
        request = json.loads(line)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = math.ceil(usage.ru_utime + usage.ru_stime)
        soft = used + int(request.get("cpu", 2))
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))  # SIGXCPU ends the child
        try:
            reply = {"result": function(*request["args"])}
        except Exception as exc:  # the caller gets the error; the child stays
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def validate_text(text: str, filename: str | None = None) -> dict:
    """Load a scenario; a JSON-able outcome: ok, issues, and parsed/name/description/tags."""
    from atp_core.orchestrator import ScenarioValidationError, load_scenario

    try:
        scenario = load_scenario(text, filename=filename)
    except ScenarioValidationError as exc:
        return {"ok": False, "issues": [issue.to_dict() for issue in exc.issues]}
    return {
        "ok": True,
        "issues": [],
        "parsed": scenario.model_dump(mode="json", exclude_none=True),
        "name": scenario.name or "",
        "description": scenario.description or "",
        "tags": [str(tag) for tag in scenario.tags or []],
    }


if __name__ == "__main__":
    _serve(sys.argv[1])
