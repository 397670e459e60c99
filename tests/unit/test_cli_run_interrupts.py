"""``python -m atp_core run`` interrupted: a run timeout and a Ctrl-C exit 2 with the report
written; Ctrl-C cancels the steps and lets teardown run; a second Ctrl-C aborts the teardown
too (its running step is cancelled at once), still writing the report. Real processes and
real SIGINTs; each wait is on what the CLI printed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CANCEL_ME = """
name: cancel-me
steps:
  - type: wait
    duration: 10m
finally:
  - type: wait
    duration: 10ms
  - type: wait
    duration: 10m
"""


class Cli:
    """The CLI in a child process; its output is collected line by line as it comes."""

    def __init__(self, tmp_path: Path, text: str):
        (tmp_path / "s.yaml").write_text(text)
        self.report = tmp_path / "r.json"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "atp_core", "run", str(tmp_path / "s.yaml")]
            + ["--json", str(self.report), "--artifacts", str(tmp_path / "a")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, *words: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(all(w in line for w in words) for line in list(self.lines)):
                return
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        pytest.fail(f"no line with {words} within {timeout:g} s:\n{self.output}")

    def interrupt(self) -> None:
        self.proc.send_signal(signal.SIGINT)

    def end(self, timeout: float = 60) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            pytest.fail(f"the CLI still ran {timeout:g} s later:\n{self.output}")
        self._reader.join(10)
        return code

    def steps(self) -> dict[str, tuple[str, str]]:
        report = json.loads(self.report.read_text())
        return {s["id"]: (s["status"], s.get("error") or "") for s in report["targets"][0]["steps"]}


@pytest.fixture
def cli(tmp_path):
    started: list[Cli] = []

    def start(text: str) -> Cli:
        started.append(Cli(tmp_path, text))
        return started[-1]

    yield start
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait(10)


def test_a_run_timeout_exits_2_and_teardown_runs(cli):
    run = cli(
        "name: slow\ntimeout: 1s\nsteps:\n  - {type: wait, duration: 10m}\n"
        "finally:\n  - {type: wait, duration: 10ms}\n"
    )
    assert run.end() == 2, run.output
    report = json.loads(run.report.read_text())
    assert report["result"] == "timed_out"
    assert run.steps()["F1"][0] == "passed"
    assert "result: timed_out (exit 2)" in run.output


def test_ctrl_c_cancels_the_steps_and_teardown_runs(cli):
    run = cli("name: c\nsteps:\n  - {type: wait, duration: 10m}\nfinally:\n"
              "  - {type: wait, duration: 300ms}\n")  # fmt: skip
    run.wait_for_line("planned steps")
    run.interrupt()
    assert run.end() == 2, run.output
    steps = run.steps()
    assert steps["1"][0] in ("cancelled", "skipped")  # the signal may come before it starts
    assert steps["F1"] == ("passed", "")  # teardown ran whole
    assert json.loads(run.report.read_text())["result"] == "cancelled"
    assert "cancelling (teardown still runs" in run.output


def test_a_second_ctrl_c_aborts_the_teardown_and_the_report_is_still_written(cli):
    run = cli(CANCEL_ME)
    run.wait_for_line("planned steps")
    run.interrupt()
    run.wait_for_line("F1", "passed")  # teardown is past its first step: F2 (10 min) runs
    run.interrupt()
    assert run.end(timeout=60) == 2, run.output  # not 10 minutes later
    steps = run.steps()
    assert steps["F1"][0] == "passed"
    assert steps["F2"][0] in ("cancelled", "skipped"), steps
    if steps["F2"][0] == "cancelled":
        assert steps["F2"][1] == "aborted from the keyboard"
    assert json.loads(run.report.read_text())["result"] == "cancelled"
    assert "aborting: the teardown is cancelled too" in run.output
    assert "result: cancelled (exit 2)" in run.output
