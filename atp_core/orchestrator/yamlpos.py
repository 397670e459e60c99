"""Parse YAML/JSON into plain data that remembers where every value came from.

:class:`PosDict` and :class:`PosList` are ``dict``/``list`` subclasses (pydantic validates them
like the plain types) carrying 1-based ``(line, column)`` of themselves, of each key and of each
value, and the path of the source container (for files converted from a legacy dialect).

Every size is bounded before work grows with it: a pass over the parser's events refuses texts
with more than ``MAX_NODES`` values or nested deeper than ``MAX_DEPTH`` (so the composer never
sees them), and while building, every value reached through an alias or a ``<<`` merge counts
against ``MAX_NODES`` again, and each mapping's merged keys are worked out once. An alias or
merge-key "bomb" (a few hundred bytes that expand to billions of values) is refused in
milliseconds instead of freezing the process.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

Pos = tuple[int, int] | None

MAX_CHARS = 1_000_000
MAX_DEPTH = 40
MAX_NODES = 20_000  # values after alias and merge expansion (a big scenario has a few thousand)

# libyaml's parser and composer when PyYAML was built with it (10x faster than pure Python)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_COUNTED_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


@dataclass
class Issue:
    """One problem of a scenario: where (1-based line/column, field path), what, what is allowed."""

    line: int | None
    column: int | None
    path: str
    message: str
    allowed: list[str] | None = None

    def to_dict(self) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "allowed": list(self.allowed) if self.allowed is not None else None,
        }

    def format(self, filename: str | None = None) -> str:
        where = filename or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: "
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.allowed:
            text += f" (allowed: {', '.join(self.allowed)})"
        return text


class ScenarioValidationError(Exception):
    """The scenario cannot be loaded; ``issues`` lists every problem found (at least one)."""

    def __init__(self, issues: list[Issue], filename: str | None = None) -> None:
        self.issues = list(issues) or [Issue(None, None, "", "invalid scenario")]
        self.filename = filename
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(issue.format(self.filename) for issue in self.issues)


class PosDict(dict):
    """A mapping with the source positions of itself, its keys and its values."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.pos: Pos = None
        self.kpos: dict[str, Pos] = {}
        self.vpos: dict[str, Pos] = {}
        self.path = ""  # where it is in the parsed text
        self.srcpath: str | None = None  # set when converted from a legacy dialect
        self.srckey: dict[str, str] = {}  # converted key → legacy path of its source


class PosList(list):
    """A sequence with the source positions of itself and its items."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.pos: Pos = None
        self.ipos: list[Pos] = []
        self.path = ""
        self.srcpath: str | None = None


class _TooBig(Exception):
    def __init__(self, message: str, pos: Pos) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def _mark(node: yaml.Node) -> Pos:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


class _Builder:
    """Node tree → PosDict/PosList/scalars; duplicate and non-scalar keys become issues."""

    def __init__(self) -> None:
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used
        self.issues: list[Issue] = []
        self.nodes = 0
        self._merged: dict[int, list[tuple[yaml.Node, yaml.Node]]] = {}  # id(node) → its pairs
        self._merging: set[int] = set()  # mappings whose merges are being worked out

    def _count(self, node: yaml.Node, amount: int = 1) -> None:
        self.nodes += amount
        if self.nodes > MAX_NODES:
            raise _TooBig(
                f"the scenario has more than {MAX_NODES} values (aliases and merges counted"
                " as often as they are used)",
                _mark(node),
            )

    def build(self, node: yaml.Node, path: str, depth: int) -> object:
        self._count(node)
        if depth > MAX_DEPTH:
            raise _TooBig(f"the scenario is nested deeper than {MAX_DEPTH} levels", _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            out = PosList()
            out.pos = _mark(node)
            out.path = path
            for index, item in enumerate(node.value):
                out.append(self.build(item, f"{path}[{index}]", depth + 1))
                out.ipos.append(_mark(item))
            return out
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            line, col = _mark(node)
            self.issues.append(Issue(line, col, path, f"invalid value: {_problem(exc)}"))
            return None

    def _pairs(self, node: yaml.MappingNode, depth: int) -> list[tuple[yaml.Node, yaml.Node]]:
        """Key/value node pairs with ``<<`` merge keys expanded (explicit keys win).

        Worked out once per mapping node (aliases share nodes), each pair counted as a value."""
        key_id = id(node)
        if key_id in self._merged:
            pairs = self._merged[key_id]
            self._count(node, len(pairs))
            return pairs
        if depth > MAX_DEPTH:
            raise _TooBig(f"the scenario is nested deeper than {MAX_DEPTH} levels", _mark(node))
        self._merging.add(key_id)
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for source in sources:
                    self._count(source)
                    if isinstance(source, yaml.MappingNode) and id(source) in self._merging:
                        line, col = _mark(source)
                        self.issues.append(
                            Issue(line, col, "", "a merge key (<<) cannot merge its own mapping")
                        )
                    elif isinstance(source, yaml.MappingNode):
                        merged.extend(self._pairs(source, depth + 1))
                    else:
                        line, col = _mark(source)
                        self.issues.append(
                            Issue(line, col, "", "a merge key (<<) needs a mapping to merge")
                        )
            else:
                pairs.append((key, value))
        explicit = {k.value for k, _ in pairs if isinstance(k, yaml.ScalarNode)}
        seen: set[str] = set()
        for key, value in merged:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is not None and name not in explicit and name not in seen:
                seen.add(name)
                pairs.append((key, value))
        self._merging.discard(key_id)
        self._merged[key_id] = pairs
        return pairs

    def _mapping(self, node: yaml.MappingNode, path: str, depth: int) -> PosDict:
        out = PosDict()
        out.pos = _mark(node)
        out.path = path
        for key_node, value_node in self._pairs(node, depth):
            kline, kcol = _mark(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(
                    Issue(kline, kcol, path, "a key must be a plain name, not a list or mapping")
                )
                continue
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            if key in out:
                first = out.kpos[key]
                self.issues.append(
                    Issue(
                        kline,
                        kcol,
                        child,
                        f"duplicate key '{key}' (first at line {first[0] if first else '?'})",
                    )
                )
                continue
            out[key] = self.build(value_node, child, depth + 1)
            out.kpos[key] = (kline, kcol)
            out.vpos[key] = _mark(value_node)
        return out


def _problem(exc: yaml.YAMLError) -> str:
    parts = []
    for attr in ("context", "problem"):
        text = getattr(exc, attr, None)
        if text:
            parts.append(str(text))
    return ", ".join(parts) or str(exc).splitlines()[0]


def _precheck(text: str) -> Issue | None:
    """Refuse, from the parser's events alone, texts with too many values or too deep."""
    count = depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, _COUNTED_EVENTS):
            count += 1
            if count > MAX_NODES:
                line, col = event.start_mark.line + 1, event.start_mark.column + 1
                return Issue(line, col, "", f"the scenario has more than {MAX_NODES} values")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line, col = event.start_mark.line + 1, event.start_mark.column + 1
                return Issue(
                    line, col, "", f"the scenario is nested deeper than {MAX_DEPTH} levels"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def parse_text(text: str) -> tuple[object, list[Issue]]:
    """Parse YAML (JSON is YAML) into positioned data; returns (data, issues)."""
    if len(text) > MAX_CHARS:
        return None, [
            Issue(None, None, "", f"the scenario is too large ({len(text)} > {MAX_CHARS} chars)")
        ]
    try:
        too_big = _precheck(text)
        if too_big is not None:
            return None, [too_big]
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return None, [Issue(line, col, "", f"YAML syntax error: {_problem(exc)}")]
    except yaml.YAMLError as exc:  # reader errors (bad characters) and the like
        mark = getattr(exc, "position", None)
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, [Issue(None, None, "", f"YAML error: {message}")]
    except RecursionError:
        return None, [
            Issue(None, None, "", f"the scenario is nested deeper than {MAX_DEPTH} levels")
        ]
    if node is None:
        return None, [Issue(1, 1, "", "the scenario is empty")]
    builder = _Builder()
    try:
        data = builder.build(node, "", 0)
    except _TooBig as exc:
        line, col = exc.pos or (None, None)
        return None, [Issue(line, col, "", exc.message)]
    except RecursionError:
        return None, [
            Issue(None, None, "", f"the scenario is nested deeper than {MAX_DEPTH} levels")
        ]
    return data, builder.issues


def locate(data: object, path: list[str | int], *, key: bool = False) -> tuple[Pos, str | None]:
    """Position of the value at ``path`` (or of its key when ``key``), else of the deepest
    container reached; also that container's legacy source path (or None)."""
    cur = data
    pos: Pos = getattr(data, "pos", None)
    src: str | None = getattr(data, "srcpath", None)
    for index, part in enumerate(path):
        last = index == len(path) - 1
        if isinstance(cur, PosDict) and isinstance(part, str) and part in cur:
            found = cur.kpos.get(part) if (key and last) else cur.vpos.get(part)
            if cur.srcpath is not None:
                src = cur.srckey.get(part) or src
            pos = found or pos
            cur = cur[part]
        elif isinstance(cur, PosList) and isinstance(part, int) and 0 <= part < len(cur):
            if part < len(cur.ipos):
                pos = cur.ipos[part] or pos
            cur = cur[part]
        else:
            break
        if getattr(cur, "srcpath", None) is not None:
            src = cur.srcpath
    return pos, src
