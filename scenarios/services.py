"""Writes to the scenario library: scenarios, revisions, import/export, reference images."""

from __future__ import annotations

import difflib
import hashlib
import io
import json
from dataclasses import dataclass

import yaml
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify

from atp_core.errors import InvalidInput
from atp_site.tags import checked_tags
from atp_site.uploads import check_pixels

from . import engine
from .models import ReferenceCandidate, ReferenceImage, Scenario, ScenarioRevision, Tag

MAX_SCENARIO_BYTES = 512 * 1024
MAX_REFERENCE_BYTES = 8 * 1024 * 1024


class ScenarioInvalid(InvalidInput):
    """The scenario text does not validate; ``issues`` says where and why."""

    def __init__(self, issues: list[dict]):
        self.issues = issues
        first = issues[0] if issues else {}
        where = f"line {first.get('line')}, column {first.get('column')}: " if first else ""
        more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"scenario does not validate: {where}{first.get('message', '')}{more}")


def detect_format(text: str, filename: str | None = None) -> str:
    if filename and filename.lower().endswith(".json"):
        return ScenarioRevision.FORMAT_JSON
    return (
        ScenarioRevision.FORMAT_JSON
        if text.lstrip().startswith(("{", "["))
        else ScenarioRevision.FORMAT_YAML
    )


def _check_size(text: str) -> None:
    if len(text.encode()) > MAX_SCENARIO_BYTES:
        raise InvalidInput(f"scenario is larger than {MAX_SCENARIO_BYTES // 1024} KiB")


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=old_label,
        tofile=new_label,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def clean_tags(names) -> list[str]:
    """``names`` as tags: trimmed, empty ones and duplicates dropped, at most MAX_TAGS of at
    most TAG_MAX_LENGTH characters (InvalidInput naming the bad one otherwise)."""
    clean: list[str] = []
    for raw in names or []:
        if not isinstance(raw, str):
            raise InvalidInput(f"tags: {raw!r} is not text")
        tag = raw.strip()
        if tag and tag not in clean:
            clean.append(tag)
    return checked_tags(clean)


def set_tags(row: Scenario | ReferenceImage, names) -> list[str]:
    """Give ``row`` (a saved scenario or reference image) exactly the tags ``names``
    (``clean_tags``); tags no row holds any more are deleted. The one writer of tags; returns
    the names as stored (sorted)."""
    clean = clean_tags(names)
    tags = [Tag.objects.get_or_create(name=name)[0] for name in clean]
    row.tagged_with.set(tags)
    Tag.objects.filter(scenarios=None, references=None).delete()
    return sorted(clean)


def _apply_metadata(scenario: Scenario, result: engine.Validation) -> None:
    scenario.title = result.name[:255]
    scenario.description = result.description


@dataclass
class SaveResult:
    revision: ScenarioRevision
    created: bool


@transaction.atomic
def save_revision(
    scenario: Scenario, content: str, user, message: str = "", filename: str | None = None
) -> SaveResult:
    """Validate ``content`` and store it as the scenario's next revision.

    Content that does not validate is never stored (raises ``ScenarioInvalid``); content equal
    to the current revision creates nothing.
    """
    _check_size(content)
    result = engine.validate(content, filename=filename)
    if not result.ok:
        raise ScenarioInvalid(result.issues)
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    previous = scenario.revisions.order_by("-number").first()
    digest = hashlib.sha256(content.encode()).hexdigest()
    if previous is not None and previous.content_sha256 == digest:
        return SaveResult(previous, created=False)
    number = previous.number + 1 if previous else 1
    revision = ScenarioRevision.objects.create(
        scenario=scenario,
        number=number,
        content=content,
        format=detect_format(content, filename),
        content_sha256=digest,
        parsed=result.parsed,
        diff=unified_diff(
            previous.content if previous else "",
            content,
            f"revision {previous.number}" if previous else "empty",
            f"revision {number}",
        ),
        message=message[:255],
        author=user if getattr(user, "is_authenticated", False) else None,
    )
    _apply_metadata(scenario, result)
    scenario.current_revision = revision
    scenario.save()
    set_tags(scenario, result.tags)
    return SaveResult(revision, created=True)


def _name_from(result: engine.Validation, filename: str | None) -> str:
    base = result.name or (filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] if filename else "")
    name = slugify(base)[:120]
    if not name:
        raise InvalidInput("the scenario has no name: set `name:` at the top level")
    return name


@transaction.atomic
def create_scenario(
    content: str,
    user,
    *,
    name: str | None = None,
    filename: str | None = None,
    message: str = "",
):
    """A new scenario whose first revision is ``content`` (which must validate)."""
    _check_size(content)
    result = engine.validate(content, filename=filename)
    if not result.ok:
        raise ScenarioInvalid(result.issues)
    slug = slugify(name)[:120] if name else _name_from(result, filename)
    if not slug:
        raise InvalidInput("name: use letters, digits, '-' or '_'")
    if Scenario.objects.filter(name=slug).exists():
        raise InvalidInput(f"a scenario named {slug!r} already exists")
    scenario = Scenario.objects.create(name=slug, created_by=user if user else None)
    save_revision(scenario, content, user, message=message or "created", filename=filename)
    scenario.refresh_from_db()
    return scenario


@dataclass
class ImportResult:
    scenario: Scenario
    created: bool  # new scenario
    revision_created: bool


def import_file(content: bytes | str, filename: str, user) -> ImportResult:
    """Import a YAML/JSON (or legacy) file: a new scenario, or a new revision of the same name."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(f"{filename}: not UTF-8 text") from None
    _check_size(content)
    result = engine.validate(content, filename=filename)
    if not result.ok:
        raise ScenarioInvalid(result.issues)
    slug = _name_from(result, filename)
    existing = Scenario.objects.filter(name=slug).first()
    if existing is None:
        scenario = create_scenario(content, user, name=slug, filename=filename)
        return ImportResult(scenario, True, True)
    message = f"imported {filename}"
    saved = save_revision(existing, content, user, message=message, filename=filename)
    return ImportResult(existing, False, saved.created)


def export_text(revision: ScenarioRevision, fmt: str) -> tuple[str, str]:
    """(text, content type) of a revision as YAML or JSON; the stored text when formats match."""
    if fmt not in ("yaml", "json"):
        raise InvalidInput(f"format {fmt!r}: allowed yaml, json")
    if fmt == revision.format:
        text = revision.content
    else:
        data = revision.parsed
        if data is None:
            loader = json.loads if revision.format == "json" else yaml.safe_load
            data = loader(revision.content)
        if fmt == "json":
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        else:
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text, ("application/json" if fmt == "json" else "application/yaml")


# --- reference images -------------------------------------------------------------------------

AREA_TYPES = ("match", "exclude")


def clean_areas(areas, width: int, height: int) -> list[dict]:
    """Areas as stored: ints inside the image, a known type, an optional 0-1 threshold."""
    if not isinstance(areas, list) or not areas:
        raise InvalidInput("areas: give at least one area {x, y, width, height, type}")
    cleaned = []
    for i, area in enumerate(areas):
        where = f"areas[{i}]"
        if not isinstance(area, dict):
            raise InvalidInput(f"{where}: expected an object with x, y, width, height")
        try:
            x, y = int(area["x"]), int(area["y"])
            w, h = int(area["width"]), int(area["height"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(f"{where}: x, y, width and height must be integers") from None
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
            raise InvalidInput(
                f"{where}: {w}x{h}+{x}+{y} is not inside the {width}x{height} screenshot"
            )
        kind = area.get("type", "match")
        if kind not in AREA_TYPES:
            raise InvalidInput(f"{where}.type: {kind!r}; allowed {', '.join(AREA_TYPES)}")
        item = {"x": x, "y": y, "width": w, "height": h, "type": kind}
        if area.get("threshold") not in (None, ""):
            threshold = float(area["threshold"])
            if not 0 < threshold <= 1:
                raise InvalidInput(f"{where}.threshold: {threshold}; allowed 0 < t <= 1")
            item["threshold"] = threshold
        cleaned.append(item)
    if not any(a["type"] == "match" for a in cleaned):
        raise InvalidInput("areas: at least one area must be of type 'match'")
    return cleaned


def save_reference_image(
    *,
    name: str,
    png: bytes,
    areas: list,
    user,
    threshold: float = 0.96,
    tags: list[str] | None = None,
    source: str = "",
) -> ReferenceImage:
    """Create or replace the reference ``name`` from a screenshot and its match areas."""
    slug = slugify(name)[:120]
    if not slug:
        raise InvalidInput("name: use letters, digits, '-' or '_'")
    tags = clean_tags(tags)
    data, width, height = _clean_png(png)
    if not 0 < float(threshold) <= 1:
        raise InvalidInput(f"threshold: {threshold}; allowed 0 < t <= 1")
    cleaned = clean_areas(areas, width, height)
    ref, _ = ReferenceImage.objects.get_or_create(name=slug, defaults={"created_by": user})
    if ref.image:
        ref.image.delete(save=False)
    ref.image.save(f"{slug}.png", ContentFile(data), save=False)
    ref.width, ref.height = width, height
    ref.areas = cleaned
    ref.threshold = float(threshold)
    ref.source = source[:255]
    ref.save()
    set_tags(ref, tags)
    return ref


def _clean_png(png: bytes) -> tuple[bytes, int, int]:
    """The screenshot re-encoded as an RGB PNG, with its size; InvalidInput if unreadable."""
    from PIL import Image, UnidentifiedImageError

    if len(png) > MAX_REFERENCE_BYTES:
        raise InvalidInput("the screenshot is larger than 8 MiB")
    try:
        with Image.open(io.BytesIO(png)) as img:
            check_pixels(img, "the screenshot")
            width, height = img.size
            buf = io.BytesIO()
            img.convert("RGB").save(buf, "PNG")
    except Image.DecompressionBombError:
        raise InvalidInput(
            f"the screenshot decompresses to too many pixels; the limit is "
            f"{settings.ATP_IMAGE_MAX_PIXELS:,} pixels (ATP_IMAGE_MAX_PIXELS)"
        ) from None
    except (UnidentifiedImageError, OSError):
        raise InvalidInput("the screenshot is not a readable image") from None
    return buf.getvalue(), width, height


MAX_CANDIDATES = 50


def add_reference_candidate(
    ref: ReferenceImage, *, label: str, png: bytes, user, areas=None, source: str = ""
) -> ReferenceCandidate:
    """Add (or replace) candidate ``label`` of ``ref``: another image a check of ``ref``
    accepts. Without ``areas`` the reference's own areas apply, so they must fit the image."""
    slug = slugify(label)[:60]
    if not slug:
        raise InvalidInput("label: use letters, digits, '-' or '_'")
    if slug == ref.name:
        raise InvalidInput(f"label: {slug!r} is the reference's own image; pick another label")
    data, width, height = _clean_png(png)
    if areas:
        cleaned = clean_areas(areas, width, height)
    else:
        try:
            clean_areas(ref.areas, width, height)
        except InvalidInput as exc:
            raise InvalidInput(
                f"the reference's areas do not fit this {width}x{height} image ({exc})"
            ) from None
        cleaned = []
    with transaction.atomic():
        existing = ref.candidates.select_for_update().filter(label=slug).first()
        if existing is None and ref.candidates.count() >= MAX_CANDIDATES:
            raise InvalidInput(f"{ref.name} has {MAX_CANDIDATES} candidates already (the most)")
        candidate = existing or ReferenceCandidate(reference=ref, label=slug, created_by=user)
        if candidate.image:
            candidate.image.delete(save=False)
        candidate.image.save(f"{ref.name}@{slug}.png", ContentFile(data), save=False)
        candidate.width, candidate.height = width, height
        candidate.areas = cleaned
        candidate.source = source[:255]
        candidate.save()
    return candidate


def remove_reference_candidate(ref: ReferenceImage, label: str) -> None:
    candidate = ref.candidates.filter(label=label).first()
    if candidate is None:
        raise InvalidInput(f"{ref.name} has no candidate {label!r}")
    if candidate.image:
        candidate.image.delete(save=False)
    candidate.delete()


def load_examples(directory, user) -> dict:
    """Load the example scenarios (``*.yaml``) and reference images (``references/*.png`` with
    a ``.json`` of ``areas``/``threshold`` beside it) of ``directory`` into the library.

    Idempotent: a scenario whose text did not change gets no new revision; references are
    (re)written from their files. Returns ``{"scenarios": [...], "references": [...],
    "errors": [...]}`` so a caller can report what happened without a traceback.
    """
    import json
    from pathlib import Path

    directory = Path(directory)
    loaded: dict = {"scenarios": [], "references": [], "errors": []}
    candidates: list = []
    for path in sorted(directory.glob("*.y*ml")):
        try:
            result = import_file(path.read_text(encoding="utf-8"), path.name, user)
        except InvalidInput as exc:
            loaded["errors"].append(f"{path.name}: {exc}")
            continue
        loaded["scenarios"].append(result.scenario.name)
    for png in sorted((directory / "references").glob("*.png")):
        meta_path = png.with_suffix(".json")
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        areas = [
            {"x": x, "y": y, "width": w, "height": h, "type": "match"}
            for x, y, w, h in meta.get("areas") or []
        ]
        name, _, label = png.stem.partition("@")
        try:
            if label:  # NAME@LABEL.png: candidate LABEL of reference NAME (loaded before it)
                candidates.append((name, label, png, areas))
                continue
            if not areas:  # no areas given: the whole screen must match
                from PIL import Image

                with Image.open(png) as img:
                    width, height = img.size
                areas = [{"x": 0, "y": 0, "width": width, "height": height, "type": "match"}]
            ref = save_reference_image(
                name=png.stem,
                png=png.read_bytes(),
                areas=areas,
                user=user,
                threshold=float(meta.get("threshold", 0.96)),
                tags=["example"],
                source=f"examples/references/{png.name}",
            )
        except (InvalidInput, OSError, ValueError) as exc:
            loaded["errors"].append(f"references/{png.name}: {exc}")
            continue
        loaded["references"].append(ref.name)
    for name, label, png, areas in candidates:
        ref = ReferenceImage.objects.filter(name=name).first()
        if ref is None:
            loaded["errors"].append(f"references/{png.name}: no reference {name!r} for it")
            continue
        try:
            add_reference_candidate(
                ref,
                label=label,
                png=png.read_bytes(),
                user=user,
                areas=areas,
                source=f"examples/references/{png.name}",
            )
        except (InvalidInput, OSError) as exc:
            loaded["errors"].append(f"references/{png.name}: {exc}")
    return loaded
