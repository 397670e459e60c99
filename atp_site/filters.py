"""The lists' filters (django-filter): one FilterSet per list serves its page, its API view and
the API's OpenAPI parameters (drf-spectacular reads the FilterSet).

A bad value is named the way the rest of the site names bad input: ``state: 'sleeping' is not
one of queued, running, finished``. The API answers it as a 400 through the one exception
handler (``{"detail": ...}``, atp_site/api_errors.py); a page names each bad filter above the
list and applies the good ones only (``ListFilterSet.qs`` leaves invalid fields out).
"""

from __future__ import annotations

from datetime import date

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.rest_framework import DjangoFilterBackend

from atp_core.errors import InvalidInput
from atp_core.orchestrator.schema import MAX_TAGS, TAG_MAX_LENGTH


class ListFilterSet(django_filters.FilterSet):
    """A FilterSet whose problems read as one line each, ``name: what is wrong``."""

    def problems(self) -> list[str]:
        """One message per bad filter value, in the FilterSet's order (empty when valid)."""
        errors = self.errors
        return [f"{name}: {' '.join(errors[name])}" for name in self.filters if name in errors]

    def bad_values(self) -> dict[str, str]:
        """The raw value of each bad filter, to keep it in its field on the page."""
        return {name: str(self.data.get(name, "")) for name in self.filters if name in self.errors}

    def checked_qs(self):
        """The filtered rows; InvalidInput naming every bad value (for selectors and the API)."""
        if not self.is_valid():
            raise InvalidInput("; ".join(self.problems()))
        return self.qs


class ListFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend on list views only (a detail URL is not narrowed by the list's
    query parameters), answering a bad value with InvalidInput, hence the API's one 400."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", "list") != "list":
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        return filterset.checked_qs()


class AllowedChoiceFilter(django_filters.ChoiceFilter):
    """A choice whose refusal lists what is allowed."""

    def __init__(self, *args, choices, **kwargs):
        allowed = ", ".join(str(value) for value, _ in choices)
        kwargs.setdefault(
            "error_messages", {"invalid_choice": f"%(value)r is not one of {allowed}"}
        )
        super().__init__(*args, choices=choices, **kwargs)


class IsoDateField(forms.Field):
    """A day as YYYY-MM-DD (what ``date.fromisoformat`` reads)."""

    def to_python(self, value):
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


class DayFilter(django_filters.Filter):
    """A day; the FilterSet's ``method`` decides how the day bounds the rows (its ``value:
    date`` hint gives the OpenAPI type)."""

    field_class = IsoDateField


class TagListField(forms.Field):
    """Every value of a repeated parameter (``?tag=a&tag=b``) as a tag: trimmed, bounded."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else [value] if value else []
        tags: list[str] = []
        for raw in values:
            tag = str(raw).strip()
            if tag and tag not in tags:
                tags.append(tag)
        if len(tags) > MAX_TAGS:
            raise ValidationError(f"at most {MAX_TAGS} tags, got {len(tags)}")
        for tag in tags:
            if len(tag) > TAG_MAX_LENGTH:
                raise ValidationError(
                    f"{tag[:20]!r}... has {len(tag)} characters (at most {TAG_MAX_LENGTH})"
                )
        return tags

    def validate(self, value):
        """Any tag may be asked for: one no row has simply matches nothing."""


class AllTagsFilter(django_filters.MultipleChoiceFilter):
    """Rows holding every tag given (``?tag=a&tag=b``: both), matched exactly; the FilterSet's
    ``method`` says where the tags are stored. A repeated parameter of strings in the OpenAPI
    schema (the method's ``value: list[str]``)."""

    field_class = TagListField


FLAGS = {"1": True, "true": True, "on": True, "yes": True, "0": False, "false": False}
FLAGS |= {"off": False, "no": False}


class FlagField(forms.Field):
    """A yes/no query parameter: 1/true/on/yes or 0/false/off/no (empty: not given)."""

    def to_python(self, value):
        text = str(value or "").strip().lower()
        if not text:
            return None
        if text not in FLAGS:
            raise ValidationError(f"{value!r} is not one of {', '.join(FLAGS)}")
        return FLAGS[text]


class FlagFilter(django_filters.Filter):
    """A yes/no filter; the FilterSet's ``method`` (``value: bool``) applies it."""

    field_class = FlagField


class RowIdField(forms.Field):
    """A row's id: a whole number from 1 to 2**63 - 1 (what the database stores)."""

    def __init__(self, *args, what: str = "id", **kwargs):
        self.what = what
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        text = str(value or "").strip()
        if not text:
            return None
        if not text.isdigit() or not 0 < int(text) < 2**63:
            raise ValidationError(f"{text[:40]!r} is not a {self.what}")
        return int(text)


class RowIdFilter(django_filters.Filter):
    """Rows pointing at the row of that id; ``what`` names it in the refusal ("a run id")."""

    field_class = RowIdField
