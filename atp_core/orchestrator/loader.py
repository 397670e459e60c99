"""Load a scenario (YAML or JSON; version 1 or a legacy dialect) into a :class:`Scenario`.

Every problem becomes an :class:`Issue` with the line and column of the offending node (its
parent when the field is missing), the field path and, where it helps, the allowed values.
All issues are reported at once in one :class:`ScenarioValidationError`; nothing else escapes.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from pathlib import Path

from pydantic import BaseModel, ValidationError

from atp_core.orchestrator import legacy
from atp_core.orchestrator.schema import (
    CHECK_KINDS,
    STEP_KINDS,
    STEP_TYPES,
    Area,
    Expect,
    Scenario,
    StepDefaults,
    TargetRef,
)
from atp_core.orchestrator.yamlpos import (
    MAX_CHARS,
    MAX_DEPTH,
    MAX_NODES,
    Issue,
    PosDict,
    ScenarioValidationError,
    locate,
    parse_text,
)

log = logging.getLogger(__name__)

MAX_ISSUES = 100  # problems described per load (describing each costs; the rest are counted)

__all__ = [
    "Issue",
    "ScenarioValidationError",
    "load_data",
    "load_scenario",
    "load_scenario_file",
    "parse_scenario_data",
]

_INTERNAL = "internal loader error (please report)"


def _field_names(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or name for name, f in model.model_fields.items())


def _path_text(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _walk(data: object, loc: tuple) -> tuple[list[str | int], object, object, bool]:
    """Turn a pydantic location into a data path: drop union tags and member labels.

    Returns (path, parent container of the last element, value at path, complete) where
    ``complete`` is False when the last element does not exist in the data (a missing field).
    """
    path: list[str | int] = []
    cur, parent = data, None
    tagged: set[int] = set()
    complete = True
    for index, part in enumerate(loc):
        if isinstance(cur, dict) and isinstance(part, str):
            if id(cur) not in tagged and part == cur.get("type") and index > 0:
                tagged.add(id(cur))
                continue
            if part in cur:
                path.append(part)
                parent, cur = cur, cur[part]
                continue
            if index == len(loc) - 1:
                path.append(part)
                parent, cur, complete = cur, None, False
            # otherwise a union member label: ignore
            continue
        if isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            path.append(part)
            parent, cur = cur, cur[part]
            continue
        # a label of a union member (int, literal['any'], str, ...) under a scalar
    return path, parent, cur, complete


def _model_at(path: list[str | int], container: object) -> type[BaseModel] | None:
    """The model that validates ``container`` (the mapping at ``path``)."""
    if not path:
        return Scenario
    last = path[-1]
    if isinstance(last, int) and len(path) >= 2 and path[-2] == "targets" and len(path) == 2:
        return TargetRef
    if last == "defaults" and len(path) == 1:
        return StepDefaults
    if last == "expect":
        return Expect
    if last == "area":
        return Area
    if isinstance(container, dict) and container.get("type") in STEP_TYPES:
        return STEP_TYPES[container["type"]]
    return None


def _suggest(word: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(word, allowed, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_QUOTED = re.compile(r"'([^']*)'")
_EXPECTS = {
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_parsing": "a number",
    "float_type": "a number",
    "string_type": "a string",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "list": "a list",
    "PosList": "a list",
    "dict": "a mapping",
    "PosDict": "a mapping",
    "NoneType": "nothing (null)",
}


def _type_word(value: object) -> str:
    return _TYPE_WORDS.get(type(value).__name__, type(value).__name__)


def _got(value: object) -> str:
    if isinstance(value, dict | list) or value is None:
        return _type_word(value)
    return _short(value)


def _expectation(error: dict) -> str | None:
    kind = error.get("type", "")
    if kind == "literal_error":
        expected = str((error.get("ctx") or {}).get("expected", ""))
        return f"one of {expected}" if expected else None
    return _EXPECTS.get(kind)


def _issue_for(error: dict, data: object, filename: str | None) -> Issue:
    issue = _issue_for_error(error, data)
    expectation = _expectation(error)
    if expectation is not None:
        issue.expectation = expectation  # type: ignore[attr-defined]
        issue.got = _short(error.get("input"))  # type: ignore[attr-defined]
    return issue


def _issue_for_error(error: dict, data: object) -> Issue:
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    path, parent, value, complete = _walk(data, loc)
    message = str(error.get("msg", "invalid value"))
    allowed: list[str] | None = None
    at_key = False
    if kind == "extra_forbidden":
        name = str(path[-1]) if path else "?"
        model = _model_at(path[:-1], parent)
        allowed = _field_names(model) if model else None
        message = f"unknown field '{name}'" + (_suggest(name, allowed) if allowed else "")
        if model is not None and model.__name__ in {m.__name__ for m in STEP_TYPES.values()}:
            message += f" for a '{parent.get('type')}' step" if isinstance(parent, dict) else ""
        at_key = True
    elif kind == "missing":
        name = str(path[-1]) if path else "?"
        message = f"missing required field '{name}'"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        is_check = bool(path) and path[-1] == "check"
        allowed = list(CHECK_KINDS if is_check else STEP_KINDS)
        what = "check type" if is_check else "step type"
        if kind == "union_tag_not_found":
            message = f"a {'check' if is_check else 'step'} needs a 'type'"
        else:
            tag = (error.get("ctx") or {}).get("tag")
            if isinstance(value, dict) and "type" in value:
                tag = value["type"]
                path = [*path, "type"]
            message = f"unknown {what} '{tag}'" + _suggest(str(tag), allowed)
            if is_check and tag in STEP_TYPES:
                message = f"'{tag}' cannot be polled by wait_until; use a check step"
    elif kind == "literal_error":
        expected = str((error.get("ctx") or {}).get("expected", ""))
        allowed = _QUOTED.findall(expected) or ([expected] if expected else None)
        message = f"{_short(value)} is not allowed"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        if (
            path
            and isinstance(path[-1], int)
            and len(path) >= 2
            and path[-2]
            in (
                "steps",
                "finally",
            )
        ):
            message = f"a step must be a mapping with a 'type', got {_got(value)}"
        else:
            message = f"expected a mapping, got {_got(value)}"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "assertion_error":
        message = message.removeprefix("Assertion failed, ")
    elif kind in _EXPECTS and complete:
        message = f"expected {_EXPECTS[kind]}, got {_got(value)}"
    elif complete and not isinstance(value, dict | list):
        message = f"{message[:1].lower()}{message[1:]}, got {_short(value)}"
    pos, src = locate(data, path, key=at_key)
    line, column = pos if pos else (None, None)
    shown = _path_text(path)
    if src is not None:  # converted from a legacy dialect: name the legacy field too
        shown = f"{shown} (legacy {src})" if src and src != shown else shown
    return Issue(line, column, shown, message, allowed)


def _merge(issues: list[Issue]) -> list[Issue]:
    """One issue per path for union alternatives; keep order by position."""
    merged: dict[tuple, Issue] = {}
    for issue in issues:
        key = (issue.path, issue.line, issue.column)
        if key in merged and merged[key].message != issue.message:
            old = merged[key]
            first, second = getattr(old, "expectation", None), getattr(issue, "expectation", None)
            if first and second:
                old.expectation = f"{first} or {second}"  # type: ignore[attr-defined]
                old.message = f"expected {old.expectation}, got {getattr(old, 'got', '?')}"
            elif issue.message not in old.message:
                old.message = f"{old.message}; or {issue.message}"
            if issue.allowed:
                old.allowed = sorted(set(old.allowed or []) | set(issue.allowed))
        else:
            merged.setdefault(key, issue)
    return sorted(
        merged.values(),
        key=lambda i: (i.line is None, i.line or 0, i.column or 0, i.path),
    )


def _plain(data: object) -> object:
    """The same data without positions (plain dicts and lists): what the models keep."""
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(item) for item in data]
    return data


def parse_scenario_data(data: object, *, filename: str | None = None) -> Scenario:
    """Validate already-parsed data (a dict, possibly positioned; legacy is converted)."""
    if not isinstance(data, dict):
        pos = getattr(data, "pos", None) or (1, 1)
        raise ScenarioValidationError(
            [
                Issue(
                    pos[0],
                    pos[1],
                    "",
                    "the top level must be a mapping (name, steps, ...), got " + _type_word(data),
                )
            ],
            filename,
        )
    dialect = legacy.detect(data)
    issues: list[Issue] = []
    if dialect:
        stem = Path(filename).stem if filename else ""
        data, issues = legacy.convert(data, dialect, default_name=stem or "legacy scenario")
    try:
        scenario = Scenario.model_validate(_plain(data))
    except ValidationError as exc:
        errors = exc.errors()
        issues += [_issue_for(error, data, filename) for error in errors[:MAX_ISSUES]]
        issues = _merge(issues)
        if len(errors) > MAX_ISSUES:
            more = len(errors) - MAX_ISSUES
            issues.append(Issue(None, None, "", f"... and {more} more problems not listed"))
        raise ScenarioValidationError(issues, filename) from None
    if issues:
        raise ScenarioValidationError(_merge(issues), filename)
    _check_pause_step(scenario, data, filename)
    return scenario


def _check_pause_step(scenario: Scenario, data: object, filename: str | None) -> None:
    """``pause_on: step:<id>`` must name a step of the plan (ids as the live view shows them)."""
    from atp_core.errors import InvalidInput
    from atp_core.orchestrator.pause import PauseRule, check_step_exists
    from atp_core.orchestrator.plan import plan_steps

    rule = PauseRule.parse(scenario.pause_on)
    ids = [p.id for p in plan_steps(scenario)]
    try:
        check_step_exists(rule, ids)
    except InvalidInput as exc:
        pos, _ = locate(data, ["pause_on"])
        line, column = pos if pos else (None, None)
        message = str(exc).removeprefix("pause_on: ")
        raise ScenarioValidationError(
            [Issue(line, column, "pause_on", message, [f"step:{i}" for i in ids[:30]])], filename
        ) from None


def _decode(text: str | bytes) -> str:
    if isinstance(text, bytes | bytearray):
        if len(text) > MAX_CHARS * 4:
            raise ScenarioValidationError(
                [Issue(None, None, "", f"the scenario is too large ({len(text)} bytes)")]
            )
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScenarioValidationError(
                [Issue(None, None, "", f"the scenario is not UTF-8 text (byte {exc.start})")]
            ) from None
    if not isinstance(text, str):
        raise ScenarioValidationError(
            [Issue(None, None, "", f"expected text, got {type(text).__name__}")]
        )
    return text.removeprefix("\ufeff")


def _json_fallback(text: str) -> object | None:
    """Plain JSON data when YAML cannot read a JSON text (tabs, for instance)."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        return None
    return data if _within_limits(data) else None


def _within_limits(data: object) -> bool:
    """Plain data has at most MAX_NODES values nested at most MAX_DEPTH deep."""
    count = 0
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            return False
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return True


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def load_data(text: str | bytes, *, filename: str | None = None) -> object:
    """The positioned data of a YAML/JSON text (legacy not converted); raises on syntax."""
    text = _decode(text)
    if not text.strip():
        raise ScenarioValidationError([Issue(1, 1, "", "the scenario is empty")], filename)
    data, issues = parse_text(text)
    if issues and data is None:
        fallback = _json_fallback(text)
        if fallback is not None:
            return fallback
        raise ScenarioValidationError(issues, filename)
    if issues:
        raise ScenarioValidationError(_merge(issues), filename)
    return data


def load_scenario(text: str | bytes, *, filename: str | None = None) -> Scenario:
    """Load a scenario from YAML or JSON text; raises :class:`ScenarioValidationError` only."""
    try:
        data = load_data(text, filename=filename)
        return parse_scenario_data(data, filename=filename)
    except ScenarioValidationError as exc:
        exc.filename = filename
        raise
    except Exception as exc:  # a loader bug must still be a clean validation error
        log.exception("scenario loader failed")
        raise ScenarioValidationError(
            [Issue(None, None, "", f"{_INTERNAL}: {type(exc).__name__}: {exc}")], filename
        ) from None


def load_scenario_file(path: str | Path) -> Scenario:
    """Load a scenario file (YAML or JSON)."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioValidationError(
            [Issue(None, None, "", f"cannot read the file: {exc.strerror or exc}")], name
        ) from None
    return load_scenario(raw, filename=name)


def is_positioned(data: object) -> bool:
    return isinstance(data, PosDict)
