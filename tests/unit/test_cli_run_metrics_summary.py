"""``python -m atp_core run`` ends with the latency per action kind and the logon phases of the
run (rich tables), and prints neither when the run measured nothing."""

import io

from rich.console import Console

from atp_core.orchestrator.cli_run import latency_table, logon_table
from atp_core.orchestrator.report import RunReport, StepReport, TargetReport


def _report(steps) -> RunReport:
    return RunReport(scenario="s", targets=[TargetReport(name="t", steps=steps)])


def _text(table) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def test_tables_show_p50_p95_max_and_phase_medians():
    steps = [
        StepReport(id=str(i), name="k", type="send_key", metrics={"action": "key", "latency": v})
        for i, v in enumerate((0.08, 0.1, 0.12, 0.3))
    ]
    steps.append(
        StepReport(
            id="L", name="log on", type="logon",
            metrics={"logon.desktop": 4.0, "logon.agent": 3.0, "logon.total": 7.0},
        )
    )  # fmt: skip
    report = _report(steps)
    latency = _text(latency_table(report))
    assert "input-to-display latency" in latency
    row = next(line for line in latency.splitlines() if line.strip("│ ").startswith("key"))
    assert [c.strip() for c in row.split("│")[2:6]] == ["4", "110 ms", "273 ms", "300 ms"], row
    logon = _text(logon_table(report))
    row = next(line for line in logon.splitlines() if "desktop" in line)
    assert "4.00 s" in row and " 1 " in row


def test_nothing_measured_prints_no_table():
    report = _report([StepReport(id="1", name="ping", type="guest_ping")])
    assert latency_table(report) is None and logon_table(report) is None
