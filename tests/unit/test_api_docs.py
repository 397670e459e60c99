"""The engine's API reference builds from its docstrings without a warning (``make docs``), and
the docstring examples that need no VM run as doctests."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import warnings
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
    spec = importlib.util.spec_from_file_location("build_api", ROOT / "docs" / "build_api.py")
    build_api = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_api)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        modules = build_api.build(tmp_path)
    assert "atp_core.orchestrator.executor" in modules and len(modules) > 50
    assert (tmp_path / "atp_core" / "orchestrator" / "executor.html").exists()
    assert (tmp_path / "atp_core" / "status.html").exists()
