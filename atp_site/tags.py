"""Tags of hosts, VMs and VDI endpoints: a list of short non-empty strings, matched exactly.

One definition for the models (validators), the forms, the API (``atp_site.api_fields.TagsField``
has the same limits), the selectors (``filter_tagged``) and the data migration that cleaned the
rows stored before (``normalise_tags``). Scenarios and reference images keep their tags in a
table (``scenarios.models.Tag``) under the same limits (``checked_tags``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from atp_site.api_fields import MAX_TAGS, TAG_MAX_LENGTH


def validate_tags(value: object) -> None:
    """Model validator: ``value`` is a list of at most MAX_TAGS non-empty strings of at most
    TAG_MAX_LENGTH characters."""
    if not isinstance(value, list):
        raise ValidationError(f"tags must be a list of strings, got {type(value).__name__}")
    if len(value) > MAX_TAGS:
        raise ValidationError(f"at most {MAX_TAGS} tags, got {len(value)}")
    for index, tag in enumerate(value):
        if not isinstance(tag, str):
            raise ValidationError(f"tag {index + 1} is a {type(tag).__name__}, not a string")
        if not tag.strip() or tag != tag.strip():
            raise ValidationError(f"tag {index + 1} is empty or has spaces around it")
        if len(tag) > TAG_MAX_LENGTH:
            raise ValidationError(
                f"tag {index + 1} has {len(tag)} characters (at most {TAG_MAX_LENGTH})"
            )


def normalise_tags(value: object) -> list[str]:
    """Whatever was stored as tags, as a valid tag list (comma-separated text is split,
    numbers become text, empty and non-scalar items are dropped, duplicates removed)."""
    if isinstance(value, str):
        items: list[object] = value.split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = []
    out: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            continue
        tag = str(item).replace("\x00", "").strip()[:TAG_MAX_LENGTH].strip()
        if tag and tag not in out:
            out.append(tag)
    return out[:MAX_TAGS]


def parse_tag_text(text: str) -> list[str]:
    """Comma-separated tags typed in a form; raises ValidationError when one is too long."""
    tags = []
    for raw in (text or "").split(","):
        tag = raw.strip()
        if tag and tag not in tags:
            tags.append(tag)
    validate_tags(tags)
    return tags


def filter_tagged(qs: QuerySet, tag: str) -> QuerySet:
    """The rows of ``qs`` whose ``tags`` list holds exactly ``tag`` (case and all).

    SQLite has no JSON containment lookup, so a text pre-filter narrows the rows and the exact
    membership is checked on the lists themselves; the result is still a queryset."""
    candidates = qs
    if tag.isascii() and '"' not in tag and "\\" not in tag:
        candidates = qs.filter(tags__icontains=tag)
    keep = [pk for pk, tags in candidates.values_list("pk", "tags") if _holds(tags, tag)]
    return qs.filter(pk__in=keep)


def _holds(tags: object, tag: str) -> bool:
    return isinstance(tags, list) and tag in tags


def checked_tags(value: object) -> list[str]:
    """Tags handed to a service: valid, or InvalidInput naming the problem."""
    from atp_core.errors import InvalidInput

    tags = list(value) if isinstance(value, list | tuple) else value
    if tags is None:
        tags = []
    try:
        validate_tags(tags)
    except ValidationError as exc:
        raise InvalidInput(f"tags: {exc.messages[0]}") from None
    return tags
