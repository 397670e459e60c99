"""``python -m atp_core.vdiplatform verify``: table/JSON output, exit 0/1/2, password from env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.test_vdi_verify import libvirt_test_uri

ROOT = Path(__file__).resolve().parents[2]


def run_verify(args: list[str], password: str | None = "11111111") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATP_VDI_")}
    if password is not None:
        env["ATP_VDI_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "atp_core.vdiplatform", "verify", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_consistent_exits_0_with_a_table(vdisim_memory, tmp_path):
    uri = libvirt_test_uri(tmp_path, "one", {"lic": 1})
    done = run_verify(["--url", vdisim_memory.base_url, "--libvirt-uri", uri, "--prefix", "lic"])
    assert done.returncode == 0, done.stderr
    assert "lic" in done.stdout and "CONSISTENT" in done.stdout


def test_inconsistent_exits_1_with_json(vdisim_memory, tmp_path):
    uri = libvirt_test_uri(tmp_path, "paused", {"lic": 3})
    done = run_verify(
        [
            "--url",
            vdisim_memory.base_url,
            "--host-uri",
            f"ocloud={uri}",
            "--prefix",
            "lic",
            "--format",
            "json",
        ]
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == [
        {
            "vm_name": "lic",
            "platform_host": "ocloud",
            "libvirt_host": "ocloud",
            "platform_status": 1,
            "libvirt_state": 3,
            "problem": "state mismatch",
            "platform_label": "running(1)",
            "libvirt_label": "paused(3)",
            "consistent": False,
        }
    ]


def test_errors_exit_2_without_traceback_or_secret(vdisim_memory):
    wrong = run_verify(
        ["--url", vdisim_memory.base_url, "--libvirt-uri", "test:///default"],
        password="not-the-password",
    )
    assert wrong.returncode == 2
    assert "5099" in wrong.stderr and "Traceback" not in wrong.stderr
    assert "not-the-password" not in wrong.stderr + wrong.stdout
    missing = run_verify(["--url", vdisim_memory.base_url], password=None)
    assert missing.returncode == 2 and "ATP_VDI_PASSWORD" in missing.stderr
