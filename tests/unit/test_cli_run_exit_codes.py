"""``python -m atp_core run``: exit 0 passed / 1 failed / 2 error or invalid; --var values are
YAML-typed; --json and --junit are written; the password comes from ATP_VDI_PASSWORD."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(tmp_path: Path, text: str, *args: str, env: dict | None = None):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text)
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "atp_core", "run", str(scenario), "--json", str(out)]
        + ["--junit", str(tmp_path / "j.xml"), "--artifacts", str(tmp_path / "a"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    report = json.loads(out.read_text()) if out.exists() else None
    return proc.returncode, report, proc.stdout + proc.stderr


def test_passed_is_0_and_vars_are_typed(tmp_path):
    code, report, output = cli(
        tmp_path,
        """
name: ok
steps:
  - type: set
    values: {double: "${n}${n}", items: "${list}"}
  - type: loop
    for_each: ${items}
    steps:
      - type: wait
        duration: 10ms
""",
        "--var",
        "n=21",
        "--var",
        "list=[a, b, c]",
    )
    assert code == 0, output
    assert report["result"] == "passed"
    loop_children = [s for s in report["targets"][0]["steps"] if s["id"] == "2.1"]
    assert [s["iteration"] for s in loop_children] == [0, 1, 2]
    assert (tmp_path / "j.xml").read_text().startswith("<?xml")
    assert "result: passed (exit 0)" in output


def test_failed_check_is_1(tmp_path, vdisim_memory):
    code, report, output = cli(
        tmp_path,
        """
name: failing
steps:
  - type: verify_vdi_domain_status
    domain: lic
    expected: "off"
    timeout: 1s
    interval: 200ms
""",
        "--vdi",
        vdisim_memory.base_url,
        env={"ATP_VDI_PASSWORD": vdisim_memory.password},
    )
    assert code == 1, output
    assert report["targets"][0]["steps"][0]["status"] == "failed"
    assert "lic is running (expected off)" in report["targets"][0]["steps"][0]["error"]


def test_error_and_invalid_are_2(tmp_path):
    code, report, output = cli(
        tmp_path, "name: no-vm\nsteps:\n  - type: guest_ping\n", env={"ATP_VDI_PASSWORD": ""}
    )
    assert code == 2, output
    assert report["result"] == "error"
    invalid = tmp_path / "invalid"
    invalid.mkdir()
    code, report, output = cli(invalid, "name: bad\nsteps:\n  - type: send_txt\n    text: x\n")
    assert code == 2 and report is None
    assert "s.yaml:3:" in output and "send_text" in output


def test_vdi_without_password_is_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ATP_VDI_PASSWORD"}
    proc = subprocess.run(
        [sys.executable, "-m", "atp_core", "run", "x.yaml", "--vdi", "http://127.0.0.1:1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    # the missing file is reported first; with a file, the missing password
    assert proc.returncode == 2
    (tmp_path / "x.yaml").write_text("name: v\nsteps:\n  - type: vdi_login\n")
    proc = subprocess.run(
        [sys.executable, "-m", "atp_core", "run", "x.yaml", "--vdi", "http://127.0.0.1:1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2 and "ATP_VDI_PASSWORD" in proc.stdout + proc.stderr
