"""`manage.py check --deploy` is clean for the documented production settings (ATP_HTTPS=1
behind the proxy, an explicit SECRET_KEY, DEBUG off): issue 11 item 12."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check_deploy(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "ATP_HTTPS")}
    env.update(
        {
            "SECRET_KEY": "x9-" + "kQ2vLm8ZpR4tW7yB1nC5fH0jD3gS6aE" * 2,
            "ALLOWED_HOSTS": "atp.example",
            "CSRF_TRUSTED_ORIGINS": "https://atp.example",
            "ATP_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "atp_site.settings",
            **extra,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_documented_production_settings_pass_check_deploy(tmp_path):
    proc = check_deploy(tmp_path, ATP_HTTPS="1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_without_https_settings_check_deploy_warns(tmp_path):
    proc = check_deploy(tmp_path)
    assert proc.returncode != 0
    for code in ("W004", "W008", "W012", "W016"):
        assert code in proc.stdout + proc.stderr
