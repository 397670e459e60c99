"""Variables in scenario strings: ``${name}``, ``${a.b}``, ``${a[0].id}``, ``${env.X}``,
``${secret.NAME}`` (a named secret handed to the run; its value is masked wherever shown).

Rendering walks dicts and lists and replaces every ``${...}`` inside strings. A string that is
exactly one ``${x}`` keeps the value's type (a list stays a list, a number a number). ``$${``
is a literal ``${``. An unknown name is a ``VariableError`` naming it and what is defined.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from atp_core.errors import InvalidInput

EXPR = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
TOKEN = re.compile(
    r"""\s*(?:
        (?P<name>[A-Za-z_][A-Za-z0-9_\-]*)
      | \[\s*(?P<index>-?\d+)\s*\]
      | \[\s*(?P<q>["'])(?P<key>.*?)(?P=q)\s*\]
      | (?P<dot>\.)
    )\s*""",
    re.VERBOSE,
)


PLAIN = (type(None), bool, int, float, str, list, dict, tuple)


class VariableError(InvalidInput):
    """A ``${...}`` expression that cannot be resolved (unknown name, bad index, bad syntax)."""


class CommandOutput(dict):
    """A captured command result ``{stdout, stderr, exit_code}``; plain ``${x}`` is stdout."""

    def __str__(self) -> str:
        return str(self.get("stdout", "")).rstrip("\r\n")


def parse_path(expr: str) -> list[str | int]:
    """``a.b[0]['c d']`` -> ``['a', 'b', 0, 'c d']``; raises VariableError on bad syntax."""
    parts: list[str | int] = []
    pos = 0
    expect_name = True
    text = expr.strip()
    if not text:
        raise VariableError("empty variable expression ${}")
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise VariableError(f"bad variable expression ${{{expr}}} at position {pos}")
        pos = m.end()
        if m.group("dot"):
            if expect_name:
                raise VariableError(f"bad variable expression ${{{expr}}}: unexpected '.'")
            expect_name = True
            continue
        if m.group("name") is not None:
            if not expect_name:
                raise VariableError(f"bad variable expression ${{{expr}}}: missing '.'")
            name = m.group("name")
            parts.append(int(name) if name.isdigit() else name)
            expect_name = False
        elif m.group("index") is not None:
            if not parts:
                raise VariableError(f"bad variable expression ${{{expr}}}: starts with [")
            parts.append(int(m.group("index")))
            expect_name = False
        else:
            parts.append(m.group("key"))
            expect_name = False
    if expect_name:
        raise VariableError(f"bad variable expression ${{{expr}}}: ends with '.'")
    return parts


def _child(value: Any, part: str | int, shown: str) -> Any:
    if isinstance(value, Mapping):
        if part in value:
            return value[part]
        if isinstance(part, int) and str(part) in value:
            return value[str(part)]
        keys = ", ".join(sorted(str(k) for k in value)) or "none"
        raise VariableError(f"${{{shown}}}: no field {part!r} (fields: {keys})")
    if isinstance(value, list | tuple):
        if isinstance(part, int) or (isinstance(part, str) and part.lstrip("-").isdigit()):
            index = int(part)
            if -len(value) <= index < len(value):
                return value[index]
            raise VariableError(f"${{{shown}}}: index {index} out of range (length {len(value)})")
        if part == "length":
            return len(value)
        raise VariableError(f"${{{shown}}}: a list has no field {part!r}; use [index]")
    if isinstance(part, str) and not part.startswith("_") and hasattr(value, part):
        return getattr(value, part)
    raise VariableError(f"${{{shown}}}: {type(value).__name__} value has no field {part!r}")


class Variables:
    """A stack of scopes (innermost first) plus the operator-allowed environment."""

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        parent: Variables | None = None,
    ) -> None:
        self.values: dict[str, Any] = dict(values or {})
        self.parent = parent
        self.env = dict(env or {}) if parent is None else parent.env
        self.secrets = dict(secrets or {}) if parent is None else parent.secrets

    def child(self, values: Mapping[str, Any] | None = None) -> Variables:
        return Variables(values, parent=self)

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value

    def set_global(self, name: str, value: Any) -> None:
        """Assign in the outermost scope that has ``name``, else here."""
        scope: Variables | None = self
        while scope is not None:
            if name in scope.values:
                scope.values[name] = value
                return
            scope = scope.parent
        self.values[name] = value

    def names(self) -> list[str]:
        seen: dict[str, None] = {}
        scope: Variables | None = self
        while scope is not None:
            for key in scope.values:
                seen.setdefault(key, None)
            scope = scope.parent
        return sorted(seen)

    def lookup_name(self, name: str, shown: str) -> Any:
        scope: Variables | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        defined = ", ".join(self.names()) or "none"
        raise VariableError(f"unknown variable ${{{shown}}} (defined: {defined})")

    def resolve(self, expr: str) -> Any:
        parts = parse_path(expr)
        shown = expr.strip()
        head = parts[0]
        if head == "env":
            if len(parts) != 2 or not isinstance(parts[1], str):
                raise VariableError(f"${{{shown}}}: use ${{env.NAME}}")
            if parts[1] not in self.env:
                allowed = ", ".join(sorted(self.env)) or "none"
                raise VariableError(
                    f"${{{shown}}}: environment variable {parts[1]!r} is not allowed by the "
                    f"operator (allowed: {allowed})"
                )
            return self.env[parts[1]]
        if head == "secret":
            if len(parts) != 2 or not isinstance(parts[1], str):
                raise VariableError(f"${{{shown}}}: use ${{secret.NAME}}")
            if parts[1] not in self.secrets:
                known = ", ".join(sorted(self.secrets)) or "none"
                raise VariableError(
                    f"${{{shown}}}: no secret named {parts[1]!r} (secrets: {known})"
                )
            return self.secrets[parts[1]]
        value = self.lookup_name(str(head), shown)
        for part in parts[1:]:
            value = _child(value, part, shown)
        return value

    def render(self, value: Any) -> Any:
        """``value`` with every ``${...}`` in its strings replaced (dicts and lists recursively)."""
        if isinstance(value, str):
            return self.render_str(value)
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.render(v) for v in value)
        return value

    def render_str(self, text: str) -> Any:
        if "$" not in text:
            return text
        whole = EXPR.fullmatch(text)
        if whole and whole.group(1) is not None:
            value = self.resolve(whole.group(1))
            if isinstance(value, CommandOutput) or not isinstance(value, PLAIN):
                return to_text(value)  # lazy values (${vm.uuid}) and objects read as text
            return value

        def replace(m: re.Match[str]) -> str:
            if m.group(1) is None:
                return "${"
            return to_text(self.resolve(m.group(1)))

        return EXPR.sub(replace, text)

    def render_label(self, text: str) -> str:
        """``text`` (a step's display name) with the ``${...}`` that resolve to plain values
        replaced; the others stay as written. Never raises: a name is shown, not checked (an
        unknown variable is the error of the step that uses it), and nothing is looked up for
        it (``${vm.uuid}`` would ask libvirt)."""
        if "$" not in text:
            return text

        def replace(m: re.Match[str]) -> str:
            if m.group(1) is None:
                return "${"
            if m.group(1).strip().startswith("secret."):
                return m.group(0)  # a secret's value is never part of a name
            try:
                value = self.resolve(m.group(1))
            except (InvalidInput, LookupError, TypeError, ValueError):
                return m.group(0)
            if isinstance(value, CommandOutput) or not isinstance(value, PLAIN):
                return m.group(0)
            return to_text(value)

        return EXPR.sub(replace, text)


def to_text(value: Any) -> str:
    """How a value reads inside a string: JSON-ish for containers, ``true``/``false``, ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, CommandOutput):
        return str(value)
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
