"""The engine's API reference builds from its docstrings without a warning (``make docs``), and
the docstring examples that need no VM run as doctests."""

from __future__ import annotations

import doctest
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import atp_core

ROOT = Path(__file__).resolve().parents[2]


def _modules_with_examples() -> list[str]:
    root = Path(atp_core.__file__).parent
    out = []
    for path in sorted(root.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = list(path.relative_to(root.parent).with_suffix("").parts)
            out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


EXAMPLES = _modules_with_examples()


def test_some_modules_have_examples():
    assert {"atp_core.status", "atp_core.logconfig", "atp_core.orchestrator"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result


def test_api_reference_builds_without_warnings(tmp_path):
    """Built as ``make docs`` builds it: in a process of its own, warnings as errors. (In the
    suite's long-lived process pdoc once could not find the source of the scenario model's
    fields after hundreds of other tests: a state of that process, not of the docstrings.)"""
    build = subprocess.run(
        [sys.executable, "-W", "error", "-W", "ignore::DeprecationWarning",
         str(ROOT / "docs" / "build_api.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-4000:]
    count = int(re.search(r"API reference of (\d+) modules", build.stdout).group(1))
    assert count > 50
    assert (tmp_path / "atp_core" / "orchestrator" / "executor.html").exists()
    assert (tmp_path / "atp_core" / "status.html").exists()
