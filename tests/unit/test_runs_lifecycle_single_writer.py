"""runs.lifecycle is the only writer of a run's state, result, reason and start/finish times:
no other module of the project assigns them on a Run or passes them to a Run query's
``update``/``create``. (A source check: a new writer would bypass the refusal of a second
finish and the one notification.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("runs", "schedules", "scenarios", "hosts", "accounts", "atp_site", "vdisim")
OWNER = ROOT / "runs" / "lifecycle.py"
FIELDS = {"state", "result", "reason", "finished", "started"}
# names a Run is bound to in the project's code (RunTarget/StepResult rows are named otherwise)
RUN_NAMES = {"run", "locked", "new", "obj", "instance", "part"}
# a multi-host run's parts (RunPart) are written by runs.lifecycle too
RUN_MODELS = frozenset({"Run", "RunPart"})
# a capacity run's life has its own owner (runs.capacity_lifecycle; its row is ``capacity_run``)
CAPACITY_OWNER = ROOT / "runs" / "capacity_lifecycle.py"
CAPACITY_FIELDS = FIELDS | {"capacity", "verdict", "steps", "at_least", "baseline_p95"}
CAPACITY_NAMES = {"capacity_run"}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def writes_of_run_fields(
    tree: ast.AST,
    models: frozenset[str] = RUN_MODELS,
    names: set[str] = RUN_NAMES,
    fields: set[str] = FIELDS,
) -> list[tuple[int, str]]:
    """(line, what) of every write to ``models``' lifecycle fields (rows bound to ``names``)."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("update", "create", "update_or_create", "get_or_create")
            and _root_name(node.func.value) in models
        ):
            hit = sorted(fields & {k.arg for k in node.keywords if k.arg})
            if hit:
                model = _root_name(node.func.value)
                found.append((node.lineno, f"{model}.objects...{node.func.attr}({hit[0]}=)"))
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr in fields
                and isinstance(target.value, ast.Name)
                and target.value.id in names
            ):
                found.append((node.lineno, f"{target.value.id}.{target.attr} ="))
    return found


def test_the_check_sees_each_kind_of_write():
    code = (
        "Run.objects.filter(pk=1).update(state='finished')\n"
        "Run.objects.select_for_update().get(pk=1)\n"
        "run.result = 'passed'\n"
        "RunTarget.objects.filter(run=run).update(state='finished')\n"
        "row.status = 'error'\n"
    )
    assert sorted(line for line, _ in writes_of_run_fields(ast.parse(code))) == [1, 3]


def test_only_runs_lifecycle_writes_a_runs_state_result_reason_and_times():
    writers = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if path == OWNER or "migrations" in path.parts:
                continue
            for line, what in writes_of_run_fields(ast.parse(path.read_text(), str(path))):
                writers.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert writers == [], "write these through runs.lifecycle:\n" + "\n".join(writers)


def test_only_capacity_lifecycle_writes_a_capacity_runs_life():
    writers = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if path == CAPACITY_OWNER or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), str(path))
            for line, what in writes_of_run_fields(
                tree, frozenset({"CapacityRun"}), CAPACITY_NAMES, CAPACITY_FIELDS
            ):
                writers.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert writers == [], "write these through runs.capacity_lifecycle:\n" + "\n".join(writers)
