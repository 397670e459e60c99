"""The reference editor's live score (docs/developer-mode.md "Live score").

The areas being edited, not saved yet, are scored against the current screen of a VM of the
inventory or against a run's screenshot, by the engine's own matcher
(``atp_core.orchestrator.steps.screen.match_candidates``, what ``verify_screen`` and
``click_image`` run): which area matches, with what score against the threshold, and where on
that screen it was found. Nothing is written; sizes are bounded (areas, image bytes, pixels)
and the VM screenshot is bounded in time (``ATP_SCORE_CAPTURE_TIMEOUT``).
"""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from atp_core.errors import AtpError, DomainNotFound, DomainNotRunning, InvalidInput
from atp_core.errors import OperationTimeout as CaptureTimeout
from atp_site.uploads import check_pixels

from .models import ReferenceImage
from .services import MAX_REFERENCE_BYTES, clean_areas

MAX_AREAS = 32  # areas of one request: each is a template search over the whole screen
SOURCE_CHOICES = 30  # run screenshots offered in the editor's source list
PNG_PREFIX = "data:image/png;base64,"


class ScoreRefused(Exception):
    """A request the score cannot answer, with the HTTP status that says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Screen:
    """The picture the areas are searched on."""

    png: bytes
    label: str
    capture_seconds: float = 0.0


def _png_size(png: bytes, what: str) -> tuple[int, int]:
    """(width, height) from the header, refusing what is too large or not an image."""
    from PIL import Image, UnidentifiedImageError

    if len(png) > MAX_REFERENCE_BYTES:
        raise InvalidInput(f"{what} has {len(png):,} bytes; the limit is {MAX_REFERENCE_BYTES:,}")
    try:
        with Image.open(io.BytesIO(png)) as img:
            check_pixels(img, what)
            return img.size
    except Image.DecompressionBombError:  # Pillow's own guard, past twice the limit
        raise InvalidInput(
            f"{what} has too many pixels; the limit is {settings.ATP_IMAGE_MAX_PIXELS:,} "
            "pixels (ATP_IMAGE_MAX_PIXELS)"
        ) from None
    except (UnidentifiedImageError, OSError):
        raise InvalidInput(f"{what} is not a readable image") from None


def _reference_image(data: dict) -> tuple[str | bytes, int, int, str]:
    """The reference picture: a saved reference's own image (``reference``: its name) or the
    screenshot being edited (``image``: a PNG data URL). (path or PNG, width, height, label)."""
    name, image = data.get("reference"), data.get("image")
    if bool(name) == bool(image):
        raise InvalidInput(
            "give the reference picture: 'reference' (a saved reference's name) or 'image' "
            "(a data:image/png;base64 URL), one of them"
        )
    if name:
        ref = ReferenceImage.objects.filter(name=str(name)).first()
        if ref is None or not ref.image:
            raise ScoreRefused(f"no reference image named {str(name)[:120]!r}", 404)
        try:
            return ref.image.path, ref.width, ref.height, ref.name
        except NotImplementedError:  # remote storage: the engine reads files
            with ref.image.open("rb") as fh:
                png = fh.read()
            return png, ref.width, ref.height, ref.name
    if not isinstance(image, str) or not image.startswith(PNG_PREFIX):
        raise InvalidInput("image: expected a data:image/png;base64 URL")
    try:
        png = base64.b64decode(image[len(PNG_PREFIX) :], validate=True)
    except ValueError:
        raise InvalidInput("image: not base64") from None
    width, height = _png_size(png, "the reference picture (image)")
    return png, width, height, "edited"


def _threshold(data: dict) -> float:
    value = data.get("threshold", 0.96)
    try:
        threshold = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"threshold: {value!r} is not a number; allowed 0 < t <= 1") from None
    if not 0 < threshold <= 1:
        raise InvalidInput(f"threshold: {threshold:g}; allowed 0 < t <= 1")
    return threshold


def _source_id(data: dict) -> tuple[str, int]:
    given = [key for key in ("vm", "artifact") if data.get(key) not in (None, "")]
    if len(given) != 1:
        raise InvalidInput(
            "give the screen to score against: 'vm' (a VM's id) or 'artifact' (a run "
            "screenshot's id), one of them"
        )
    key = given[0]
    try:
        return key, int(data[key])
    except (TypeError, ValueError):
        raise InvalidInput(f"{key}: {data[key]!r} is not an id") from None


def vm_screen(vm_id: int) -> Screen:
    """The VM's screen now, through the inventory's capture path (``take_screenshot``),
    bounded by ATP_SCORE_CAPTURE_TIMEOUT; a VM that is not running says so (409)."""
    from hosts.models import VirtualMachine
    from hosts.services import take_screenshot_within

    vm = VirtualMachine.objects.select_related("host").filter(pk=vm_id).first()
    if vm is None:
        raise ScoreRefused(f"no VM with id {vm_id}", 404)
    if vm.host is None:
        raise ScoreRefused(
            f"{vm.name} is known only from a VDI platform: it has no libvirt screen", 409
        )
    timeout = float(settings.ATP_SCORE_CAPTURE_TIMEOUT)
    started = time.monotonic()
    try:
        png = take_screenshot_within(vm.host, vm.name, timeout)
    except (DomainNotRunning, DomainNotFound) as exc:
        raise ScoreRefused(f"{vm} has no screen now: {exc}", 409) from None
    except CaptureTimeout as exc:
        raise ScoreRefused(str(exc), 504) from None
    except (AtpError, OSError) as exc:
        raise ScoreRefused(f"no screenshot of {vm}: {exc}", 409) from None
    seconds = time.monotonic() - started
    return Screen(png, f"{vm} at {timezone.localtime():%H:%M:%S}", seconds)


def artifact_screen(artifact_id: int) -> Screen:
    """A run's PNG screenshot artifact, size-checked before it is read."""
    from runs.models import Artifact

    art = Artifact.objects.select_related("target").filter(pk=artifact_id).first()
    if art is None or not art.file:
        raise ScoreRefused(f"no run artifact with id {artifact_id}", 404)
    if art.mime != "image/png":
        raise InvalidInput(f"artifact {art.name}: {art.mime or 'no type'}, not a PNG screenshot")
    if art.size > MAX_REFERENCE_BYTES:
        raise InvalidInput(
            f"artifact {art.name} has {art.size:,} bytes; the limit is {MAX_REFERENCE_BYTES:,}"
        )
    try:
        with art.file.open("rb") as fh:
            png = fh.read(MAX_REFERENCE_BYTES + 1)
    except OSError:
        raise ScoreRefused(f"the file of artifact {art.name} is missing", 404) from None
    return Screen(png, _artifact_label(art))


def _artifact_label(art) -> str:
    where = f" {art.target.name}" if art.target_id else ""
    step = f" step {art.step_id}" if art.step_id else ""
    return f"run {art.run_id}{where}{step} {art.name}"


def score(data: object) -> dict:
    """Score the areas of ``data`` (the endpoint's JSON body) against its source's screen.

    ``{reference | image, areas, threshold, vm | artifact}`` → ``{matched, score, threshold,
    method, source, areas: [{index, area, type, score, matched, found}], screen: {width,
    height, image}}``; ``index`` is the area's place in the list sent (exclude areas have no
    score), ``found`` the top-left corner of the best match on the screen. InvalidInput (400)
    or ScoreRefused (404, 409, 504) when it cannot answer.
    """
    from atp_core.orchestrator import ReferenceSpec
    from atp_core.orchestrator.screen_match import Frame
    from atp_core.orchestrator.steps.screen import match_candidates

    if not isinstance(data, dict):
        raise InvalidInput("expected a JSON object {reference | image, areas, threshold, vm}")
    areas = data.get("areas")
    if isinstance(areas, list) and len(areas) > MAX_AREAS:
        raise InvalidInput(f"areas: {len(areas)} given; the limit is {MAX_AREAS}")
    threshold = _threshold(data)
    kind, source_id = _source_id(data)
    picture, width, height, label = _reference_image(data)
    cleaned = clean_areas(areas, width, height)
    screen = vm_screen(source_id) if kind == "vm" else artifact_screen(source_id)
    screen_width, screen_height = _png_size(screen.png, f"the screen of {screen.label}")

    match = [i for i, a in enumerate(cleaned) if a["type"] == "match"]
    boxes = [(a["x"], a["y"], a["width"], a["height"]) for a in cleaned]
    spec = ReferenceSpec(
        path=picture,
        areas=[boxes[i] for i in match],
        threshold=threshold,
        exclude=[boxes[i] for i, a in enumerate(cleaned) if a["type"] == "exclude"],
        label=label,
    )
    started = time.monotonic()
    seen = match_candidates([spec], Frame(screen.png))
    match_seconds = time.monotonic() - started
    result = seen.result
    scored = []
    for index, found in zip(match, result.areas, strict=True):
        scored.append(
            {
                "index": index,
                "area": list(found.area),
                "type": "match",
                "score": round(found.score, 4),
                "matched": found.score >= result.threshold,
                "found": list(found.location),
            }
        )
    return {
        "ok": True,
        "matched": seen.matched,
        "score": round(result.score, 4),
        "threshold": result.threshold,
        "method": result.method,
        "source": screen.label,
        "areas": scored,
        "screen": {
            "width": screen_width,
            "height": screen_height,
            "image": PNG_PREFIX + base64.b64encode(screen.png).decode(),
        },
        "seconds": {"capture": round(screen.capture_seconds, 3), "match": round(match_seconds, 3)},
    }


def source_choices() -> dict:
    """What the editor offers to score against: the inventory's running libvirt VMs and the
    newest run screenshots."""
    from hosts.models import VirtualMachine
    from runs.models import Artifact

    vms = VirtualMachine.objects.select_related("host").filter(host__isnull=False, state="running")
    shots = (
        Artifact.objects.select_related("target")
        .filter(kind="screenshot", mime="image/png")
        .order_by("-created", "-id")[:SOURCE_CHOICES]
    )
    return {
        "vms": [{"id": vm.pk, "label": str(vm)} for vm in vms.order_by("host__name", "name")],
        "screenshots": [{"id": a.pk, "label": _artifact_label(a)} for a in shots],
    }
