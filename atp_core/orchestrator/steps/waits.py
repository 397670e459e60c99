"""Waiting: ``wait``, ``wait_until`` (poll a check), ``verify_domain_status``."""

from __future__ import annotations

import time

from atp_core.errors import AtpError, Cancelled, CheckFailed

from .. import schema
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
    deadline = time.monotonic() + max(0.0, call.remaining() - 0.3)
    while True:
        current = power.state()
        if current == expected:
            call.say(f"{vm} is {current}")
            return
        if time.monotonic() >= deadline:
            raise CheckFailed(f"{vm} is {current!r}, not {expected!r} after {call.timeout:g} s")
        call.token.wait(min(interval, max(0.0, deadline - time.monotonic())))


@handles(schema.WaitUntil)
def wait_until(call: StepCall) -> None:
    """Run the check step again and again until it passes; its last failure if it never does."""
    check = call.model.check
    handler = HANDLERS[check.type]
    interval = float(call.args.get("interval") or 1.0)
    deadline = time.monotonic() + max(0.0, call.remaining() - 0.3)
    attempts = 0
    last: AtpError | None = None
    while True:
        attempts += 1
        args = call.variables.render(check.model_dump(by_alias=True))
        left = max(0.1, deadline - time.monotonic())
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
            call.value = sub.value
            call.output_parts.extend(sub.output_parts)
            call.say(f"passed after {attempts} attempt(s)")
            return
        except Cancelled:
            call.token.raise_if_cancelled()  # the step's own scope: cancel or timeout
            last = CheckFailed(f"the check did not finish within {sub_timeout:g} s")
        except AtpError as exc:
            last = exc
        if time.monotonic() + interval > deadline:
            message = f"not true after {attempts} attempts in {call.timeout:g} s: {last}"
            raise (CheckFailed if isinstance(last, CheckFailed) else type(last))(message)
        call.log(f"attempt {attempts}: {last}", "debug")
        call.token.wait(interval)
