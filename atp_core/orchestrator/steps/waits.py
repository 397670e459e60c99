"""Waiting: ``wait``, ``wait_until`` (poll a check), ``verify_domain_status``."""

from __future__ import annotations

import time

from atp_core.errors import AtpError, Cancelled, CheckFailed

from .. import schema
from ..polling import Polling, poll_until
from ..runtime import ScopeToken, StepCall, require_vm
from .registry import HANDLERS, handles


@handles(schema.Wait)
def wait(call: StepCall) -> None:
    seconds = float(call.args["duration"])
    call.token.wait(seconds)
    call.say(f"waited {seconds:g} s")


@handles(schema.VerifyDomainStatus)
def verify_domain_status(call: StepCall) -> None:
    vm = require_vm(call)
    expected = str(call.args["expected"])
    interval = float(call.args.get("interval") or 0.5)
    power = call.session().power
    current = ""

    def attempt(_polling: Polling) -> bool | None:
        nonlocal current
        current = power.state()
        return True if current == expected else None

    reached, _ = poll_until(call, attempt, interval=interval, margin=0.3)
    if not reached:
        raise CheckFailed(f"{vm} is {current!r}, not {expected!r} after {call.timeout:g} s")
    call.say(f"{vm} is {current}")


@handles(schema.WaitUntil)
def wait_until(call: StepCall) -> None:
    """Run the check step again and again until it passes; its last failure if it never does."""
    check = call.model.check
    handler = HANDLERS[check.type]
    interval = float(call.args.get("interval") or 1.0)
    last: AtpError | None = None

    def attempt(polling: Polling) -> bool | None:
        nonlocal last
        if last is not None:
            call.log(f"attempt {polling.tries - 1}: {last}", "debug")
        args = call.variables.render(check.model_dump(by_alias=True))
        left = max(0.1, polling.left())
        sub_timeout = min(left, float(check.timeout)) if check.timeout else left
        token = ScopeToken(call.token, time.monotonic() + sub_timeout, "poll")
        sub = type(call)(
            branch=call.branch,
            step_id=call.step_id,
            kind=check.type,
            args=args,
            model=check,
            token=token,
            report=call.report,
            variables=call.variables,
            timeout=sub_timeout,
            vm_override=str(args["target"]) if args.get("target") else call.vm_override,
            frame=call.frame,
        )
        try:
            handler(sub)
        except Cancelled:
            call.token.raise_if_cancelled()  # the step's own scope: cancel or timeout
            last = CheckFailed(f"the check did not finish within {sub_timeout:g} s")
            return None
        except AtpError as exc:
            last = exc
            return None
        call.value = sub.value
        call.output_parts.extend(sub.output_parts)
        return True

    passed, polling = poll_until(call, attempt, interval=interval, margin=0.3)
    if passed:
        call.say(f"passed after {polling.tries} attempt(s)")
        return
    message = f"not true after {polling.tries} attempts in {call.timeout:g} s: {last}"
    raise (CheckFailed if isinstance(last, CheckFailed) else type(last))(message)
