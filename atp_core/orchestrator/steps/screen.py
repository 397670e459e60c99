"""Screen steps: ``screenshot`` (a PNG artifact), ``verify_screen`` and ``click_image`` (poll
until a reference — any of its candidates — is on the screen), ``wait_screen_change`` and
``wait_screen_still``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atp_core.errors import CheckFailed, InvalidInput, ScreenMismatch

from .. import schema, screen_match
from ..latency import measured
from ..polling import Polling, poll_until
from ..runtime import ReferenceSpec, StepCall, require_vm
from .input import ensure_mark
from .registry import handles

DEFAULT_INTERVAL = 1.0
CHANGE_INTERVAL = 0.2


@handles(schema.Screenshot)
def screenshot(call: StepCall) -> None:
    require_vm(call)
    png = call.session().screen.screenshot()
    label = call.args.get("label") or "screenshot"
    info = call.artifact(str(label), png, "screenshot", "image/png")
    call.value = info["name"]
    call.say(f"saved {info['name']}")


def candidates(call: StepCall, name: str) -> list[ReferenceSpec]:
    """The candidate images of reference ``name``, only from the run's reference store: a
    scenario names a reference, never a file on the worker (it could read any image there)."""
    references = call.branch.run.references
    spec = references.get(name)
    if spec is None:
        known = ", ".join(sorted(references)) or "none"
        raise InvalidInput(f"unknown reference image {name!r} (known: {known})")
    specs = list(spec) if isinstance(spec, list | tuple) else [spec]
    if not specs:
        raise InvalidInput(f"reference {name!r} has no candidate images")
    return specs


def _label(spec: ReferenceSpec, index: int) -> str:
    return spec.label or (Path(str(spec.path)).stem if index == 0 else f"#{index + 1}")


@dataclass
class Seen:
    """The outcome of one screenshot against every candidate of a reference."""

    matched: bool
    label: str
    spec: ReferenceSpec
    result: screen_match.MatchResult


def _box(area: Any) -> tuple[int, int, int, int] | None:
    if not area:
        return None
    return int(area["x"]), int(area["y"]), int(area["width"]), int(area["height"])


def match_candidates(
    specs: list[ReferenceSpec],
    frame: screen_match.Frame,
    *,
    area: tuple[int, int, int, int] | None = None,
    threshold: float | None = None,
    method: str | None = None,
) -> Seen:
    """Compare ``frame`` with each candidate: first at each one's own position, then (only if
    none matched there) over the whole screen. The first match wins; else the best score."""
    best: Seen | None = None
    for search in ("place", "all"):
        for index, spec in enumerate(specs):
            use = method or spec.method or "template"
            if search == "all" and use != "template":
                continue  # SSIM compares in place: the first pass said everything
            result = screen_match.compare(
                spec.path,
                frame,
                areas=[area] if area else [tuple(int(v) for v in a) for a in spec.areas] or None,
                threshold=spec.threshold if threshold is None else threshold,
                method=use,
                exclude=[tuple(int(v) for v in a) for a in spec.exclude] or None,
                search=search,
            )
            seen = Seen(result.matched, _label(spec, index), spec, result)
            if seen.matched:
                return seen
            if best is None or result.score > best.result.score:
                best = seen
    assert best is not None
    return best


def _poll_reference(call: StepCall, name: str) -> tuple[Seen, bytes, int]:
    """Screenshots until a candidate of ``name`` matches; CheckFailed (with the best
    screenshot, the closest candidate's image as it was checked, and a diff as artifacts)
    when the step's time is up."""
    specs = candidates(call, name)
    area = _box(call.args.get("area"))
    threshold = call.args.get("threshold")
    method = call.args.get("method")
    interval = float(call.args.get("interval") or DEFAULT_INTERVAL)
    screen = call.session().screen
    best: tuple[Seen, bytes] | None = None

    def attempt(_polling: Polling) -> tuple[Seen, bytes] | None:
        nonlocal best
        shot = screen.screenshot()
        seen = match_candidates(
            specs, screen_match.Frame(shot), area=area, threshold=threshold, method=method
        )
        if seen.matched:
            return seen, shot
        if best is None or seen.result.score > best[0].result.score:
            best = (seen, shot)
        return None

    found, polling = poll_until(call, attempt, interval=interval, margin=1.0, at_least=0.5)
    polls = polling.tries
    if found is not None:
        return found[0], found[1], polls
    seen, shot = best
    best_info = call.artifact(f"{name}-best", shot, "screenshot", "image/png")
    # the reference as it was checked (it may be fixed later): the report's slider shows it
    reference_png = screen_match.encode_png(screen_match.load_image(seen.spec.path))
    reference_info = call.artifact(f"{name}-reference", reference_png, "screenshot", "image/png")
    exclude = [tuple(int(v) for v in a) for a in seen.spec.exclude]
    diff = screen_match.diff_image(seen.spec.path, shot, seen.result, exclude=exclude)
    diff_info = call.artifact(f"{name}-diff", diff, "diff", "image/png")
    scores = ", ".join(f"{a.area}: {a.score:.3f}" for a in seen.result.areas)
    which = f" (closest candidate {seen.label!r} of {len(specs)})" if len(specs) > 1 else ""
    raise ScreenMismatch(
        f"screen did not match {name!r} within {call.timeout:g} s ({polls} screenshots): best "
        f"{seen.result.method} score {seen.result.score:.3f} < threshold "
        f"{seen.result.threshold:g}{which} ({scores})",
        {
            "reference": name,
            "candidate": seen.label,
            "candidates": len(specs),
            "method": seen.result.method,
            "score": round(seen.result.score, 4),
            "threshold": seen.result.threshold,
            "areas": [
                {"area": list(a.area), "score": round(a.score, 4), "location": list(a.location)}
                for a in seen.result.areas
            ],
            "best": best_info["name"],
            "reference_image": reference_info["name"],
            "diff": diff_info["name"],
        },
    )


def _matched_line(name: str, seen: Seen, polls: int, count: int) -> str:
    which = f" by candidate {seen.label!r} of {count}" if count > 1 else ""
    return (
        f"{name} matched{which} ({seen.result.method}, score {seen.result.score:.3f} >= "
        f"{seen.result.threshold:g}) after {polls} screenshot(s)"
    )


@handles(schema.VerifyScreen)
def verify_screen(call: StepCall) -> None:
    require_vm(call)
    name = str(call.args["reference"])
    seen, _, polls = _poll_reference(call, name)
    call.value = round(seen.result.score, 4)
    call.say(_matched_line(name, seen, polls, len(candidates(call, name))))


@handles(schema.ClickImage)
@measured
def click_image(call: StepCall) -> None:
    """Click the centre (+ offset) of where the matched candidate's first area was found."""
    require_vm(call)
    ensure_mark(call)
    name = str(call.args["reference"])
    seen, _, polls = _poll_reference(call, name)
    found = seen.result.areas[0]
    _, _, w, h = found.area
    dx, dy = (int(v) for v in (call.args.get("offset") or (0, 0)))
    x, y = found.location[0] + w // 2 + dx, found.location[1] + h // 2 + dy
    call.session().mouse.click(
        x, y, button=call.args.get("button") or "left", double=bool(call.args.get("double"))
    )
    call.value = {"x": x, "y": y, "candidate": seen.label, "score": round(seen.result.score, 4)}
    call.say(_matched_line(name, seen, polls, len(candidates(call, name))))
    call.say(f"clicked {call.args.get('button') or 'left'} at ({x}, {y})")


def _change_settings(call: StepCall) -> tuple[Any, list, float, float]:
    area = _box(call.args.get("area"))
    exclude = [_box(a) for a in call.args.get("exclude") or []]
    threshold = float(call.args.get("threshold") or 0.0)
    interval = float(call.args.get("interval") or CHANGE_INTERVAL)
    return area, exclude, threshold, interval


def _where(area: Any) -> str:
    return f"in area {area}" if area else "on the screen"


@handles(schema.WaitScreenChange)
def wait_screen_change(call: StepCall) -> None:
    """The first screenshot is the baseline; pass once a later one differs from it by more
    than ``threshold`` (fraction of the area's pixels)."""
    require_vm(call)
    area, exclude, threshold, interval = _change_settings(call)
    screen = call.session().screen
    base = None
    most = 0.0

    def attempt(_polling: Polling) -> float | None:
        nonlocal base, most
        gray = screen_match.Frame(screen.screenshot()).gray
        if base is None:  # the first screenshot is the baseline
            base = gray
            return None
        changed = screen_match.changed_fraction(base, gray, area, exclude)
        most = max(most, changed)
        return changed if changed > threshold else None

    changed, polling = poll_until(call, attempt, interval=interval, margin=0.3, at_least=0.3)
    if changed is not None:
        call.value = round(changed, 6)
        call.say(
            f"the screen changed {_where(area)} after {polling.elapsed():.2f} s "
            f"({changed:.4%} of the pixels, > {threshold:g}; {polling.tries} screenshots)"
        )
        return
    raise CheckFailed(
        f"the screen did not change {_where(area)} within {call.timeout:g} s ({polling.tries} "
        f"screenshots; most changed: {most:.4%} of the pixels, needed > {threshold:g})"
    )


@handles(schema.WaitScreenStill)
def wait_screen_still(call: StepCall) -> None:
    """Pass once consecutive screenshots over ``duration`` each differ from the first of
    that stretch by at most ``threshold`` (fraction of the area's pixels)."""
    require_vm(call)
    area, exclude, threshold, interval = _change_settings(call)
    duration = float(call.args.get("duration") or 1.0)
    interval = min(interval, duration)
    screen = call.session().screen
    base = None
    still_since = 0.0
    changes, last = 0, 0.0

    def attempt(_polling: Polling) -> bool | None:
        nonlocal base, still_since, changes, last
        gray = screen_match.Frame(screen.screenshot()).gray
        if base is None:  # the first screenshot starts the first still stretch
            base, still_since = gray, time.monotonic()
        else:
            last = screen_match.changed_fraction(base, gray, area, exclude)
            if last > threshold:
                changes += 1
                base, still_since = gray, time.monotonic()
        return True if time.monotonic() - still_since >= duration else None

    still, polling = poll_until(call, attempt, interval=interval, margin=0.3, at_least=0.3)
    if still:
        call.value = round(polling.elapsed(), 3)
        call.say(
            f"the screen was still {_where(area)} for {duration:g} s after "
            f"{polling.elapsed():.2f} s ({changes} change(s) before; {polling.tries} "
            "screenshots)"
        )
        return
    raise CheckFailed(
        f"the screen did not stay still {_where(area)} for {duration:g} s within "
        f"{call.timeout:g} s: {changes} change(s) in {polling.tries} screenshots, the last "
        f"{last:.4%} of the pixels (allowed: {threshold:g})"
    )
