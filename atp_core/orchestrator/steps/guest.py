"""Guest agent steps: commands, files, ping."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from atp_core.errors import CheckFailed

from .. import schema
from ..runtime import StepCall, StepError, require_vm
from ..schema import DEFAULT_MAX_OUTPUT
from ..variables import CommandOutput
from .registry import handles


def _expect(args: dict[str, Any]) -> dict[str, Any]:
    expect = dict(args.get("expect") or {})
    expect.setdefault("exit_code", 0)
    return expect


def mismatches(result: Any, expect: dict[str, Any]) -> list[str]:
    problems = []
    code = expect.get("exit_code", 0)
    if code != "any" and code is not None and int(code) != result.exit_code:
        problems.append(f"exit code {result.exit_code}, expected {code}")
    needle = expect.get("stdout_contains")
    if needle is not None and str(needle) not in result.stdout:
        problems.append(f"stdout does not contain {str(needle)!r}")
    pattern = expect.get("stdout_regex")
    if pattern is not None and not re.search(str(pattern), result.stdout, re.MULTILINE):
        problems.append(f"stdout does not match /{pattern}/")
    needle = expect.get("stderr_contains")
    if needle is not None and str(needle) not in result.stderr:
        problems.append(f"stderr does not contain {str(needle)!r}")
    return problems


def _run(call: StepCall, check: bool) -> None:
    require_vm(call)
    args = call.args
    env = args.get("env") or None
    result = call.session().agent.exec(
        args.get("command"),
        args.get("argv"),
        shell=args.get("shell") or "auto",
        env={str(k): str(v) for k, v in env.items()} if env else None,
        stdin=args.get("stdin"),
        timeout=max(0.2, call.remaining() - 0.05),
        cancel=call.token,
    )
    cap = int(args.get("max_output") or DEFAULT_MAX_OUTPUT)
    result = dataclasses.replace(
        result,
        stdout=_capped(call, result.stdout, cap, "stdout"),
        stderr=_capped(call, result.stderr, cap, "stderr"),
    )
    call.output(result.stdout, "stdout")
    call.output(result.stderr, "stderr")
    call.value = CommandOutput(
        stdout=result.stdout, stderr=result.stderr, exit_code=result.exit_code
    )
    text = result.stdout
    if result.stderr:
        text += ("" if not text or text.endswith("\n") else "\n") + result.stderr
    call.say(text.rstrip("\n"))
    problems = mismatches(result, _expect(args))
    if problems:
        message = "; ".join(problems)
        if result.stderr.strip():
            message += f" (stderr: {result.stderr.strip()[:300]})"
        raise (CheckFailed if check else StepError)(message)


@handles(schema.ExecCommand)
def exec_command(call: StepCall) -> None:
    _run(call, check=False)


@handles(schema.VerifyCommand)
def verify_command(call: StepCall) -> None:
    _run(call, check=True)


@handles(schema.FileWrite)
def file_write(call: StepCall) -> None:
    require_vm(call)
    content = call.args.get("content")
    data = "" if content is None else str(content)
    call.session().agent.file_write(str(call.args["path"]), data)
    call.say(f"wrote {len(data.encode())} bytes to {call.args['path']}")


def _capped(call: StepCall, text: str, cap: int, stream: str) -> str:
    """``text`` cut to ``cap`` bytes (UTF-8) before it is shown or becomes a variable."""
    raw = text.encode("utf-8", errors="replace")
    if len(raw) <= cap:
        return text
    call.log(f"{stream}: {len(raw)} bytes, kept the first {cap} (max_output)", level="warning")
    return raw[:cap].decode("utf-8", errors="ignore") + f"\n[... {len(raw) - cap} bytes cut]"


@handles(schema.FileRead)
def file_read(call: StepCall) -> None:
    require_vm(call)
    raw = call.session().agent.file_read(
        str(call.args["path"]),
        max_bytes=int(call.args.get("max_bytes") or DEFAULT_MAX_OUTPUT),
        timeout=max(0.2, call.remaining() - 0.05),
        cancel=call.token,
    )
    from atp_core.protocol.qga import decode_output

    text = decode_output(raw)
    call.value = text
    call.say(text)


@handles(schema.GuestPing)
def guest_ping(call: StepCall) -> None:
    require_vm(call)
    call.session().agent.ping(timeout=max(1.0, min(10.0, call.remaining())))
    call.say("the guest agent answered")
