"""Reads of the scenario library; every list is a fixed number of queries whatever its size."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from atp_core.errors import InvalidInput
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


class RevisionNotFound(LookupError):
    """No scenario of that name, or no revision of that number (the message says which)."""


def get_revision(
    scenario: Scenario | str, number: int | str | None = None
) -> ScenarioRevision | None:
    """Revision ``number`` of ``scenario`` (a Scenario or its name), its author loaded;
    ``number`` None or "": the scenario's current revision (None when it has none yet).

    Raises RevisionNotFound for an unknown scenario or revision number and InvalidInput for a
    number that is not a whole number, so every caller turns them into the same answers."""
    if isinstance(scenario, str):
        found = Scenario.objects.filter(name=scenario).select_related("current_revision").first()
        if found is None:
            raise RevisionNotFound(f"no scenario named {scenario!r}")
        scenario = found
    if number is None or number == "":
        return scenario.current_revision
    try:
        wanted = int(number)
    except (TypeError, ValueError):
        raise InvalidInput(f"revision: {number!r} is not a revision number") from None
    revision = (
        ScenarioRevision.objects.select_related("author")
        .filter(scenario=scenario, number=wanted)
        .first()
    )
    if revision is None:
        raise RevisionNotFound(f"scenario {scenario.name} has no revision {wanted}")
    revision.scenario = scenario
    return revision


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
