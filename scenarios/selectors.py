"""Reads of the scenario library; every list is a fixed number of queries whatever its size."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from atp_site.tags import filter_tagged

from .models import ReferenceImage, Scenario, ScenarioRevision


def scenario_list(query: str = "", tag: str = "", include_archived: bool = False) -> QuerySet:
    qs = Scenario.objects.select_related("current_revision", "current_revision__author").annotate(
        revision_count=Count("revisions")
    )
    if not include_archived:
        qs = qs.filter(archived=False)
    if query:
        qs = qs.filter(
            Q(name__icontains=query)
            | Q(title__icontains=query)
            | Q(description__icontains=query)
            | Q(tags__icontains=query)
        )
    if tag:
        qs = filter_tagged(qs, tag)
    return qs.order_by("name")


def all_tags() -> list[tuple[str, int]]:
    """Every tag in use with its scenario count, most used first."""
    counts: dict[str, int] = {}
    for tags in Scenario.objects.filter(archived=False).values_list("tags", flat=True):
        for t in tags or []:
            counts[t] = counts.get(t, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def revisions_of(scenario: Scenario) -> QuerySet:
    return (
        ScenarioRevision.objects.filter(scenario=scenario)
        .select_related("author")
        .defer("content", "parsed", "diff")
        .order_by("-number")
    )


def reference_list(query: str = "") -> QuerySet:
    qs = ReferenceImage.objects.select_related("created_by").annotate(
        candidate_count=Count("candidates")
    )
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(tags__icontains=query))
    return qs.order_by("name")
