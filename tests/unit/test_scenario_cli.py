"""``python -m atp_core validate|convert``: exit codes and output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from atp_core.cli import main
from tests.unit.test_scenario_legacy_typed import DEV_GUIDE

ROOT = Path(__file__).resolve().parents[2]
GOOD = "name: ok\nsteps:\n  - {type: wait, duration: 1.5m}\n"
BAD = "name: bad\nsteps:\n  - type: send_key\n    kee: ret\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_exit_codes_and_issue_lines(tmp_path, capsys):
    good = _write(tmp_path, "good.yaml", GOOD)
    bad = _write(tmp_path, "bad.yaml", BAD)
    assert main(["validate", str(good)]) == 0
    assert "ok ('ok'" in capsys.readouterr().out
    assert main(["validate", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{bad}:4:5: steps[0].kee: unknown field 'kee'" in "\n".join(out)
    assert any(line.startswith(f"{bad}:3:5: steps[0].key: missing required field") for line in out)
    assert main(["validate", "-q", str(good)]) == 0
    assert capsys.readouterr().out == ""


def test_validate_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "absent.yaml")]) == 1
    assert "cannot read the file" in capsys.readouterr().out


def test_convert_stdout_and_output_file(tmp_path, capsys):
    legacy = _write(tmp_path, "guide.yaml", DEV_GUIDE)
    assert main(["convert", str(legacy)]) == 0
    printed = capsys.readouterr().out
    data = yaml.safe_load(printed)
    assert data["name"] == "guide" and data["targets"] == [{"vm": "vm-001"}]
    out = tmp_path / "out" / "v1.yaml"
    out.parent.mkdir()
    assert main(["convert", str(legacy), "-o", str(out)]) == 0
    assert out.read_text() == printed
    assert main(["validate", str(out)]) == 0


def test_convert_invalid_and_unreadable(tmp_path, capsys):
    bad = _write(tmp_path, "bad.yaml", BAD)
    assert main(["convert", str(bad)]) == 1
    assert "unknown field 'kee'" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "absent.yaml")]) == 2


def test_module_entry_point(tmp_path):
    bad = _write(tmp_path, "bad.yaml", BAD)
    good = _write(tmp_path, "good.yaml", GOOD)
    run = [sys.executable, "-m", "atp_core", "validate"]
    ok = subprocess.run([*run, str(good)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    fail = subprocess.run([*run, str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert fail.returncode == 1
    assert "Traceback" not in fail.stdout + fail.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "atp_core"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert usage.returncode == 2 and "validate" in usage.stderr
