"""Build the API reference of the engine (``atp_core``) from its docstrings with pdoc.

``python docs/build_api.py OUT_DIR`` (what ``make docs`` runs, with warnings as errors). pdoc
follows a package's ``__all__``, which here names public functions and classes, not submodules:
those are handed to it by name.
"""

from __future__ import annotations

import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def engine_modules() -> list[str]:
    """The modules to hand pdoc: ``atp_core`` and each module pdoc would not reach from its
    package (a package with ``__all__`` not naming it)."""
    import importlib

    sys.path.insert(0, str(ROOT))
    import atp_core

    names = ["atp_core"]
    for info in pkgutil.walk_packages(atp_core.__path__, "atp_core."):
        if info.name.endswith("__main__"):
            continue
        parent_name, _, short = info.name.rpartition(".")
        exported = getattr(importlib.import_module(parent_name), "__all__", None)
        if exported is not None and short not in exported:
            names.append(info.name)
    return names


def build(out: Path) -> list[str]:
    import pdoc

    modules = engine_modules()
    pdoc.pdoc(*modules, output_directory=out)
    return modules


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "var" / "api-docs")
    built = build(target)
    print(f"API reference of {len(built)} modules: {target / 'index.html'}")
