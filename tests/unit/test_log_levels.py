"""ATP_LOG sets levels per layer the same way for the web's settings and the engine's CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from atp_core.logconfig import logging_dict, parse_log_spec

ROOT = Path(__file__).resolve().parents[2]


def test_levels_per_logger():
    config = logging_dict("warning,atp_core.transport=debug,atp_core.protocol.qga.wire.vm1=DEBUG")
    assert config["root"]["level"] == "WARNING"
    assert config["loggers"] == {
        "atp_core.transport": {"level": "DEBUG"},
        "atp_core.protocol.qga.wire.vm1": {"level": "DEBUG"},
    }


@pytest.mark.parametrize("spec", ["verbose", "atp_core=", "=debug"])
def test_a_bad_value_is_refused_with_what_is_allowed(spec):
    with pytest.raises(ValueError, match="ATP_LOG"):
        parse_log_spec(spec)


def test_the_cli_reads_it():
    env = {**os.environ, "ATP_LOG": "info,atp_core.transport=loud"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "atp_core",
            "validate",
            str(ROOT / "examples/01_keyboard_text.yaml"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "'loud' is not a level" in done.stderr
    env["ATP_LOG"] = "info,atp_core.transport=debug"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "atp_core",
            "validate",
            str(ROOT / "examples/01_keyboard_text.yaml"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
