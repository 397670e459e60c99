"""Tests wait on conditions, not on the clock (DEVELOPERS.md: speed goes to bench/).

Two things may not creep back into tests/, outside the allow-lists below:

- a **fixed sleep**: ``time.sleep``, ``asyncio.sleep`` or Playwright's ``wait_for_timeout``
  that is not inside a poll (a ``while`` loop, or a ``for`` loop that ``break``s or
  ``return``s: a retry). Wait on the condition instead (``tests/waiting.py``).
- a **timed assertion**: an ``assert`` that bounds a duration from above (the clock —
  ``time.monotonic()``, ``time.time()``, ``perf_counter()`` — or a name such as ``elapsed``,
  ``took``, ``duration``, ``latency``) by less than ``GENEROUS`` seconds. A bound that only
  catches a hang is fine; how fast something is belongs in bench/. Lower bounds ("the wait
  ran whole") are behaviour and are not flagged.

An entry of an allow-list names ``path::function`` and says why; a sleep there *is* the
behaviour under test (an outage of a set length, a fake's slow call, pacing a load).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
GENEROUS = 30.0  # seconds: an upper bound at least this long only catches a hang

SLEEP_MODULES = {"time", "asyncio"}
CLOCK_CALLS = {"monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns"}
INSTANT_CALLS = {"now", "utcnow"}  # a datetime compared with now is an instant, not a duration
TIMING_NAMES = {
    "elapsed", "took", "waited", "duration", "latency", "ended_after", "spent", "gap", "times",
    "started", "finished", "p50", "p95",
}  # fmt: skip

ALLOWED_SLEEPS: dict[str, str] = {
    "rig/test_transport_manager.py::slow_uri": "a slow host's answer, to prove result order",
    "rig/test_transport_manager.py::work": "a call that holds its slot, to see the bound",
    "rig/test_spice_login_screen.py::test_login_screen_over_spice_then_logon_reaches_the_desktop": (
        "xdm's greeter drops keys typed in the instant after it is drawn; nothing shows it ready"
    ),
    "rig/test_spice_login_screen.py::_refused": (
        "the same greeter pause; and PAM's refusal delay, during which no session may start"
    ),
    "rig/test_spice_keyboard.py::test_every_printable_character_typed_over_spice_arrives_exactly": (
        "twm moves the focus on X's pointer-entered event, which the guest does not report"
    ),
    "dist/test_dist_redis_restart.py::test_redis_restart_mid_run": (
        "the outage: Redis stays down 3 s"
    ),
    "dist/test_dist_redis_restart_ws_viewer.py::"
    "test_a_websocket_viewer_kept_through_a_redis_restart_sees_every_event_once": (
        "the outage: Redis stays down 3 s"
    ),
    "dist/test_dist_redis_outage_inventory_page.py::"
    "test_an_outage_is_two_log_lines_and_the_inventory_page_converges": (
        "the outage: Redis stays down 4 s while daphne's layer retries"
    ),
    "dist/test_dist_libvirtd_restart.py::test_libvirtd_restart_mid_run_the_run_passes": (
        "the outage: libvirtd stays down 2 s of the 6 s wait step"
    ),
    "dist/test_dist_remote_hosts.py::test_a_link_pulled_mid_run_and_put_back_the_run_goes_on": (
        "the outage: the link stays cut CUT_SECONDS"
    ),
    "dist/test_dist_cancel_escalation.py::test_ignored_cancel_terminates_the_prefork_child": (
        "nothing outside shows the engine inside the agent call (step_started comes just before "
        "it); and 'nothing arrives after run_finished' needs a quiet period to be seen"
    ),
    "web/test_console_proxy_rig.py::_type": "typing pace of a person at a VNC console",
    "web/test_channel_layer_idle_read.py::send_later": (
        "the quiet spell longer than redis-py's socket timeout is the behaviour under test"
    ),
    "unit/test_executor_parallel.py::slow": "a fake's slow command that holds its slot",
    "unit/test_logon_step.py::wait_for_agent": "a fake's agent that answers 0.2 s late",
    "unit/test_vnc_proxy_handshake.py::handle": "a fake VNC server that lingers before closing",
}

ALLOWED_TIMED_ASSERTS: dict[str, str] = {
    "rig/test_latency_calibration.py::test_measured_latency_tracks_the_apps_delay": (
        "the accuracy of the latency the product measures, against the app's own delay"
    ),
    "rig/test_video_recording.py::test_target_video_has_frames_on_change_and_markers": (
        "the markers fall inside the video: two recorded figures agree, not a speed"
    ),
    "browser/test_report_video_player.py::test_player_seeks_to_a_clicked_step_and_highlights_it": (
        "the length of a generated video file, not a timing"
    ),
    "dist/test_dist_schedule_webhook.py::test_schedule_runs_on_time_and_webhook_gets_the_result": (
        "a schedule's period is its behaviour: runs one period apart (bounds of a whole period)"
    ),
}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    return ""


def _is_sleep(func: ast.AST) -> bool:
    """``time.sleep``, ``asyncio.sleep``, a bare ``sleep`` or ``page.wait_for_timeout``."""
    if isinstance(func, ast.Name):
        return func.id == "sleep"
    if isinstance(func, ast.Attribute):
        if func.attr == "wait_for_timeout":
            return True
        return func.attr == "sleep" and _name(func.value) in SLEEP_MODULES
    return False


def _calls(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(s, ast.Call) and _name(s.func) in names for s in ast.walk(node))


def _is_timing(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _name(sub.func) in CLOCK_CALLS:
            return True
        if isinstance(sub, ast.Name | ast.Attribute | ast.Subscript) and (
            _name(sub) in TIMING_NAMES
        ):
            return True
    return False


def _seconds(node: ast.AST) -> float | None:
    """The value of a bound made of numeric literals (``3 + 2.5``), else None."""
    try:
        value = eval(compile(ast.Expression(node), "<bound>", "eval"), {"__builtins__": {}})  # noqa: S307
    except Exception:  # noqa: BLE001 - a name or a call: not a literal bound
        return None
    return float(value) if isinstance(value, int | float) else None


def _upper_bounds(compare: ast.Compare) -> list[ast.AST]:
    """The bounds that cap a timing operand from above in ``compare`` (chains included)."""
    operands = [compare.left, *compare.comparators]
    bounds = []
    for i, op in enumerate(compare.ops):
        left, right = operands[i], operands[i + 1]
        if _calls(left, INSTANT_CALLS) or _calls(right, INSTANT_CALLS):
            continue
        if isinstance(op, ast.Lt | ast.LtE) and _is_timing(left) and not _is_timing(right):
            bounds.append(right)
        if isinstance(op, ast.Gt | ast.GtE) and _is_timing(right) and not _is_timing(left):
            bounds.append(left)
    return bounds


class _Scan(ast.NodeVisitor):
    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.functions: list[str] = []
        self.loops: list[ast.AST] = []
        self.sleeps: list[tuple[str, int]] = []
        self.timed: list[tuple[str, int]] = []

    def _where(self) -> str:
        return f"{self.rel}::{self.functions[-1] if self.functions else '<module>'}"

    def visit_FunctionDef(self, node) -> None:  # noqa: N802 - ast's name
        self.functions.append(node.name)
        outer, self.loops = self.loops, []  # a loop outside a function does not poll inside it
        self.generic_visit(node)
        self.loops = outer
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    def _loop(self, node) -> None:
        retry = isinstance(node, ast.While) or any(
            isinstance(sub, ast.Break | ast.Return) for sub in ast.walk(node)
        )
        self.loops.append(retry)
        self.generic_visit(node)
        self.loops.pop()

    visit_While = visit_For = visit_AsyncFor = _loop  # noqa: N815

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802 - ast's name
        if _is_sleep(node.func) and not any(self.loops):
            self.sleeps.append((self._where(), node.lineno))
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:  # noqa: N802 - ast's name
        for sub in ast.walk(node.test):
            if isinstance(sub, ast.Compare):
                for bound in _upper_bounds(sub):
                    seconds = _seconds(bound)
                    if seconds is None or seconds < GENEROUS:
                        self.timed.append((self._where(), node.lineno))
        self.generic_visit(node)


def scan(source: str, rel: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """``(fixed sleeps, timed asserts)`` of one file, each as ``(path::function, line)``."""
    visitor = _Scan(rel)
    visitor.visit(ast.parse(source, rel))
    return visitor.sleeps, visitor.timed


@functools.cache
def scan_tests() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    sleeps, timed = [], []
    for path in sorted(TESTS.rglob("*.py")):
        rel = path.relative_to(TESTS).as_posix()
        if rel.startswith("fixtures/vendor/"):
            continue
        s, t = scan(path.read_text(encoding="utf-8"), rel)
        sleeps += s
        timed += t
    return sleeps, timed


def test_no_fixed_sleeps_outside_the_allow_list():
    sleeps, _ = scan_tests()
    found = [f"{where} (line {line})" for where, line in sleeps if where not in ALLOWED_SLEEPS]
    assert found == [], "fixed sleeps: wait on the condition instead (tests/waiting.py):\n" + (
        "\n".join(found)
    )


def test_no_timed_asserts_outside_the_allow_list():
    _, timed = scan_tests()
    found = [
        f"{where} (line {line})" for where, line in timed if where not in ALLOWED_TIMED_ASSERTS
    ]
    assert found == [], (
        f"timed assertions (an upper bound under {GENEROUS:g} s): assert the behaviour, "
        "measure the speed in bench/:\n" + "\n".join(found)
    )


def test_every_allow_list_entry_is_still_needed():
    sleeps, timed = scan_tests()
    stale = set(ALLOWED_SLEEPS) - {w for w, _ in sleeps}
    stale |= set(ALLOWED_TIMED_ASSERTS) - {w for w, _ in timed}
    assert stale == set(), f"allow-list entries with nothing left to allow: {sorted(stale)}"


def test_the_scan_tells_a_poll_from_a_fixed_sleep_and_a_hang_guard_from_a_timed_assert():
    code = """
import time
def fixed():
    time.sleep(1)
def polls(ready):
    while not ready():
        time.sleep(0.1)
def retries(go):
    for _ in range(3):
        try:
            return go()
        except OSError:
            time.sleep(1)
def pacing(page):
    for _ in range(3):
        page.wait_for_timeout(500)
def timed(started, elapsed, step):
    assert time.monotonic() - started < 2
    assert 0.5 <= elapsed <= 3 + 1
    assert step.duration < 30 - 1
def not_timed(started, elapsed, step, limit):
    assert time.monotonic() - started < 60  # a hang guard
    assert elapsed >= 0.5  # a lower bound: the wait ran whole
    assert step.duration > 0
    assert 120 > elapsed
    assert step.finished <= timezone.now() < deadline  # instants, not a duration
    assert step.count < 3
"""
    sleeps, timed = scan(code, "x.py")
    assert [w for w, _ in sleeps] == ["x.py::fixed", "x.py::pacing"]
    assert [w for w, _ in timed] == ["x.py::timed"] * 3
    _, timed = scan("def f(elapsed, limit):\n    assert elapsed < limit\n", "y.py")
    assert timed == [("y.py::f", 2)], "a bound that is not a literal is checked by a person"
