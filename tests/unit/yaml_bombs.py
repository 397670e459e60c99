"""Texts of a few hundred bytes that expand to billions of values through YAML aliases and
``<<`` merge keys (shared by the loader tests, the fuzzer and the web tests)."""

from __future__ import annotations

STEPS = "steps:\n  - type: wait\n    duration: 1s\n"


def merge_bomb(depth: int = 10, width: int = 10, keys: int = 2) -> str:
    """``l<n>: {<<: [*l<n-1>, ...width]}``, ``depth`` levels (10 deep: 10**10 merges)."""
    first = ", ".join(f"k{i}: {i}" for i in range(keys))
    lines = ["version: 1", "name: merge-bomb", "variables:", f"  l0: &l0 {{{first}}}"]
    for level in range(1, depth + 1):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"  l{level}: &l{level} {{<<: [{refs}], m{level}: {level}}}")
    return "\n".join(lines) + "\n" + STEPS


def alias_bomb(depth: int = 9, width: int = 10) -> str:
    """The "billion laughs": each list holds ``width`` aliases of the previous one."""
    lines = ["version: 1", "name: alias-bomb", "variables:", "  l0: &l0 [lol, lol]"]
    for level in range(1, depth + 1):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"  l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n" + STEPS


def mapping_alias_bomb(depth: int = 9, width: int = 10) -> str:
    """Aliases as mapping values: ``l<n>: {a0: *l<n-1>, a1: *l<n-1>, ...}``."""
    lines = ["version: 1", "name: map-bomb", "variables:", "  l0: &l0 {x: 1}"]
    for level in range(1, depth + 1):
        refs = ", ".join(f"a{i}: *l{level - 1}" for i in range(width))
        lines.append(f"  l{level}: &l{level} {{{refs}}}")
    return "\n".join(lines) + "\n" + STEPS


SELF_MERGE = "version: 1\nname: loop\nvariables:\n  a: &a {x: 1, <<: *a}\n" + STEPS
SELF_ALIAS = "version: 1\nname: loop\nvariables:\n  a: &a [1, *a]\n" + STEPS
