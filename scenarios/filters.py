"""The library's lists' filters: scenarios and reference images (page, API and OpenAPI)."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from atp_site.filters import AllTagsFilter, FlagFilter, ListFilterSet

from .models import ReferenceImage, Scenario, Tag


def with_all_tags(qs: QuerySet, tags: list[str]) -> QuerySet:
    """Rows of ``qs`` (scenarios or reference images) holding every one of ``tags``."""
    through = qs.model.tagged_with.through
    column = f"{qs.model._meta.model_name}_id"
    for tag in tags:
        qs = qs.filter(pk__in=through.objects.filter(tag__name=tag).values(column))
    return qs


def tag_text_matches(model, text: str) -> Exists:
    """A row of ``model`` with a tag whose name contains ``text`` (for the search box)."""
    related = "scenarios" if model is Scenario else "references"
    return Exists(Tag.objects.filter(**{related: OuterRef("pk"), "name__icontains": text}))


class ScenarioFilter(ListFilterSet):
    """``q``: name, title, description or a tag contains it; ``tag``: has that tag (repeat:
    has all of them); ``archived``: 1 also lists archived scenarios (hidden by default)."""

    q = django_filters.CharFilter(
        method="search", help_text="name, title, description or tag contains"
    )
    tag = AllTagsFilter(method="tagged", help_text="has this tag (repeat: all of them)")
    archived = FlagFilter(method="include_archived", help_text="1: archived ones too")

    class Meta:
        model = Scenario
        fields = ["q", "tag", "archived"]

    def search(self, qs, name, value):
        return qs.filter(
            Q(name__icontains=value)
            | Q(title__icontains=value)
            | Q(description__icontains=value)
            | tag_text_matches(Scenario, value)
        )

    def tagged(self, qs, name, value: list[str]):
        return with_all_tags(qs, value)

    def include_archived(self, qs, name, value: bool):
        return qs  # the default (archived hidden) is applied in filter_queryset

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived=False)
        return super().filter_queryset(queryset)


class ReferenceFilter(ListFilterSet):
    """``q``: name or a tag contains it; ``tag``: has that tag (repeat: all of them)."""

    q = django_filters.CharFilter(method="search", help_text="name or tag contains")
    tag = AllTagsFilter(method="tagged", help_text="has this tag (repeat: all of them)")

    class Meta:
        model = ReferenceImage
        fields = ["q", "tag"]

    def search(self, qs, name, value):
        return qs.filter(Q(name__icontains=value) | tag_text_matches(ReferenceImage, value))

    def tagged(self, qs, name, value: list[str]):
        return with_all_tags(qs, value)
