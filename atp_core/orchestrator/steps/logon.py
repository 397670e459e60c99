"""``logon``: log on at the login screen over SPICE and time each phase of it, on the target.

Marks (monotonic, the SPICE client's clock): requested → powered on → agent up (only with
``power_on`` and a VM that was off) → login screen shown → credentials sent → desktop shown →
first app ready (with ``app``). A phase is the time from one mark to the next; each is stored
as ``logon.<phase>`` seconds in the step's metrics, with ``logon.total``.
"""

from __future__ import annotations

import time

from atp_core.errors import InvalidInput

from .. import schema
from ..latency import LOGON_PHASES, wait_shown
from ..runtime import StepCall, require_vm
from .registry import handles

TYPING_PAUSE = 0.5  # between the user name's Enter and the password (the greeter moves on)


@handles(schema.Logon)
def logon(call: StepCall) -> None:
    vm = require_vm(call)
    session = call.session()
    spice = getattr(session, "spice", None)
    if spice is None:
        raise InvalidInput(
            f"step {call.step_id} (logon) needs the SPICE display (display: spice): it times "
            "the login from the display updates a remote user's client receives"
        )
    start = time.monotonic()
    marks: list[tuple[str, float]] = []

    def mark(phase: str, at: float) -> None:
        since = marks[-1][1] if marks else start
        marks.append((phase, at))
        call.say(f"{phase.replace('_', ' ')}: {at - since:.2f} s")

    if call.args.get("power_on") and session.power.state() != "running":
        session.power.start(wait=False)
        mark("power_on", time.monotonic())
        session.power.wait_for_agent(max(1.0, call.remaining() - 1.0), call.token)
        mark("agent", time.monotonic())
    login = call.args.get("login_screen")
    if login:
        shown, _ = wait_shown(call, spice, marks[-1][1] if marks else start, login, already=True)
        mark("login_screen", shown)
    else:
        spice.frame()  # connected, with a whole screen: the login screen as it is
        mark("login_screen", time.monotonic())
    call.token.wait(float(call.args.get("settle") or 0))
    spice.send_text(f"{call.args['username']}\n", cancel=call.token)
    call.token.wait(TYPING_PAUSE)
    spice.send_text(f"{call.args['password']}\n", cancel=call.token)
    sent = [i.time for i in spice.inputs_since(start) if i.kind == "key_down"]
    mark("credentials", sent[-1] if sent else time.monotonic())
    shown, _ = wait_shown(call, spice, marks[-1][1], call.args["desktop"])
    mark("desktop", shown)
    if call.args.get("app"):
        shown, _ = wait_shown(call, spice, marks[-1][1], call.args["app"], already=True)
        mark("app", shown)
    previous = start
    for phase, at in marks:
        call.report.metrics[f"logon.{phase}"] = round(at - previous, 3)
        previous = at
    call.report.metrics["logon.total"] = round(previous - start, 3)
    call.value = {phase: call.report.metrics.get(f"logon.{phase}") for phase in LOGON_PHASES}
    call.say(f"logged on to {vm} in {previous - start:.2f} s")
