"""Screen steps: ``screenshot`` (a PNG artifact) and ``verify_screen`` (poll until it matches)."""

from __future__ import annotations

import time
from pathlib import Path

from atp_core.errors import CheckFailed, InvalidInput

from .. import screen_match
from ..runtime import ReferenceSpec, StepCall, require_vm


def screenshot(call: StepCall) -> None:
    require_vm(call)
    png = call.session().screen.screenshot()
    label = call.args.get("label") or "screenshot"
    info = call.artifact(str(label), png, "screenshot", "image/png")
    call.value = info["name"]
    call.say(f"saved {info['name']}")


def _reference(call: StepCall, name: str) -> ReferenceSpec:
    references = call.branch.run.references
    spec = references.get(name)
    if spec is None and Path(name).suffix.lower() == ".png" and Path(name).is_file():
        spec = ReferenceSpec(path=name)
    if spec is None:
        known = ", ".join(sorted(references)) or "none"
        raise InvalidInput(f"unknown reference image {name!r} (known: {known})")
    return spec


def verify_screen(call: StepCall) -> None:
    require_vm(call)
    name = str(call.args["reference"])
    spec = _reference(call, name)
    reference = screen_match.load_image(spec.path)
    area = call.args.get("area")
    if area:
        areas = [(int(area["x"]), int(area["y"]), int(area["width"]), int(area["height"]))]
    else:
        areas = [tuple(int(v) for v in a) for a in spec.areas] or None
    threshold = call.args.get("threshold")
    if threshold is None:
        threshold = spec.threshold
    method = call.args.get("method") or spec.method or "template"
    interval = float(call.args.get("interval") or 1.0)
    screen = call.session().screen
    deadline = time.monotonic() + max(0.5, call.remaining() - 1.0)
    best: tuple[screen_match.MatchResult, bytes] | None = None
    polls = 0
    while True:
        polls += 1
        shot = screen.screenshot()
        result = screen_match.compare(
            reference,
            shot,
            areas=areas,
            threshold=threshold,
            method=method,
            exclude=[tuple(int(v) for v in a) for a in spec.exclude] or None,
        )
        if best is None or result.score > best[0].score:
            best = (result, shot)
        if result.matched:
            call.value = round(result.score, 4)
            call.say(
                f"{name} matched ({method}, score {result.score:.3f} >= "
                f"{result.threshold:g}) after {polls} screenshot(s)"
            )
            return
        if time.monotonic() + interval > deadline:
            break
        call.token.wait(interval)
    result, shot = best
    call.artifact(f"{name}-best", shot, "screenshot", "image/png")
    call.artifact(
        f"{name}-diff", screen_match.diff_image(reference, shot, result), "diff", "image/png"
    )
    scores = ", ".join(f"{a.area}: {a.score:.3f}" for a in result.areas)
    raise CheckFailed(
        f"screen did not match {name!r} within {call.timeout:g} s ({polls} screenshots): best "
        f"{method} score {result.score:.3f} < threshold {result.threshold:g} ({scores})"
    )
