"""Serializer fields that refuse values outside their declared JSON type.

DRF's own fields coerce: a CharField takes ``7`` as ``"7"``, an IntegerField takes ``1.0`` and
``True``, a model JSONField takes anything (``null`` then reaches a NOT NULL column). The API
declares a type for every field in its OpenAPI schema; these fields hold it to that, so a wrong
type is a 400 naming the field. ``StrictModelSerializer`` maps model fields onto them.
"""

from __future__ import annotations

from django.db import models
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination

from atp_core.orchestrator.schema import MAX_TAGS, TAG_MAX_LENGTH

# Integers are stored in 64-bit columns at most (PostgreSQL bigint, SQLite integer).
INT64_MAX = 2**63 - 1


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Not a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer: JSON numbers without a fraction, or digits from a form; never a bool."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", INT64_MAX)
        kwargs.setdefault("min_value", -INT64_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool | float | list | dict):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A number (JSON integer or fraction, or digits from a form); never a bool."""

    def to_internal_value(self, data):
        if isinstance(data, bool | list | dict):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true/false in JSON (form posts send the strings "true"/"false"/"on"/"1"/"0")."""

    def to_internal_value(self, data):
        if not isinstance(data, bool | str):
            self.fail("invalid", input=data)
        return super().to_internal_value(data)


class AllowedChoiceField(serializers.ChoiceField):
    """A choice whose refusal lists what is allowed."""

    default_error_messages = {"invalid_choice": '"{input}" is not allowed (allowed: {allowed}).'}

    def fail(self, key, **kwargs):
        if key == "invalid_choice":
            kwargs.setdefault("allowed", ", ".join(str(c) for c in self.choices))
        super().fail(key, **kwargs)


class StrictURLField(serializers.URLField, StrictCharField):
    pass


class StrictSlugField(serializers.SlugField, StrictCharField):
    pass


class TagsField(serializers.ListField):
    """A list of short non-empty strings."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "child",
            StrictCharField(max_length=TAG_MAX_LENGTH, allow_blank=False, trim_whitespace=True),
        )
        kwargs.setdefault("max_length", MAX_TAGS)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated fields are the strict ones above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.URLField: StrictURLField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveBigIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BooleanField: StrictBooleanField,
    }
    serializer_choice_field = AllowedChoiceField


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``?limit=`` up to ``settings.ATP_API_MAX_LIMIT`` (500); larger values are cut to it."""

    @property
    def max_limit(self) -> int:
        from django.conf import settings

        return int(getattr(settings, "ATP_API_MAX_LIMIT", 500))
