"""A worker refuses to start without an explicit SECRET_KEY outside the demo (issue 11 item 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from atp_site.celery import MISSING_SECRET_KEY, secret_key_problem

ROOT = Path(__file__).resolve().parents[2]


def test_explicit_key_or_demo_opt_in_is_needed():
    assert secret_key_problem({}) == MISSING_SECRET_KEY
    assert secret_key_problem({"SECRET_KEY": ""}) == MISSING_SECRET_KEY
    assert secret_key_problem({"SECRET_KEY": "k" * 50}) is None
    assert secret_key_problem({"ATP_DEMO": "1"}) is None


def test_worker_without_secret_key_exits_with_the_reason(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ATP_DEMO")}
    env["ATP_VAR_DIR"] = str(tmp_path)
    env["CELERY_BROKER_URL"] = "memory://"
    proc = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "atp_site", "worker", "-P", "solo", "-Q", "none"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "SECRET_KEY is not set" in proc.stdout + proc.stderr
