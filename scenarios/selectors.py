"""Reads of the scenario library; every list is a fixed number of queries whatever its size."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from atp_core.errors import InvalidInput

from .filters import ReferenceFilter, ScenarioFilter
from .models import ReferenceImage, Scenario, ScenarioRevision, Tag


def scenarios() -> QuerySet:
    """Every scenario with its current revision, revision count and tags (fixed queries)."""
    return (
        Scenario.objects.select_related("current_revision", "current_revision__author")
        .annotate(revision_count=Count("revisions"))
        .prefetch_related("tagged_with")
        .order_by("name")
    )


def scenario_list(filters=None) -> QuerySet:
    """Scenarios, by name, filtered by ``ScenarioFilter`` (``q``, ``tag``, ``archived``);
    ``filters`` a dict or QueryDict; a bad value raises InvalidInput."""
    return ScenarioFilter(filters or {}, queryset=scenarios()).checked_qs()


def all_tags() -> list[tuple[str, int]]:
    """Every tag of a listed (not archived) scenario with its scenario count, most used first."""
    rows = (
        Tag.objects.annotate(uses=Count("scenarios", filter=Q(scenarios__archived=False)))
        .filter(uses__gt=0)
        .values_list("name", "uses")
    )
    return sorted(rows, key=lambda kv: (-kv[1], kv[0]))


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


def references() -> QuerySet:
    return (
        ReferenceImage.objects.select_related("created_by")
        .annotate(candidate_count=Count("candidates"))
        .prefetch_related("tagged_with")
        .order_by("name")
    )


def reference_list(filters=None) -> QuerySet:
    """Reference images, by name, filtered by ``ReferenceFilter`` (``q``, ``tag``)."""
    return ReferenceFilter(filters or {}, queryset=references()).checked_qs()
