"""The runs list's filters (one FilterSet for the page, the API and its OpenAPI parameters)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from atp_site.filters import AllowedChoiceFilter, DayFilter, ListFilterSet

from .models import CapacityRun, ResultChoices, Run, RunStateChoices, RunTarget


def start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class RunFilter(ListFilterSet):
    """``scenario`` (name or id), ``state``, ``result``, ``host`` (a target's host),
    ``user`` (who launched it), ``build`` (exactly), ``date`` (one day) or ``date_from`` /
    ``date_to`` (inclusive days, YYYY-MM-DD), ``q`` (name or reason contains)."""

    scenario = django_filters.CharFilter(method="by_scenario", help_text="scenario name or id")
    state = AllowedChoiceFilter(choices=RunStateChoices.choices)
    result = AllowedChoiceFilter(choices=ResultChoices.choices)
    host = django_filters.CharFilter(method="on_host", help_text="name of a target's host")
    user = django_filters.CharFilter(
        field_name="launched_by__username", help_text="username of who launched it"
    )
    build = django_filters.CharFilter(field_name="build", help_text="the build label, exactly")
    date = DayFilter(method="on_day", help_text="created that day (YYYY-MM-DD)")
    date_from = DayFilter(method="from_day", help_text="created on or after that day")
    date_to = DayFilter(method="to_day", help_text="created on or before that day")
    q = django_filters.CharFilter(method="search", help_text="name or reason contains")

    class Meta:
        model = Run
        fields = [
            "scenario",
            "state",
            "result",
            "host",
            "user",
            "build",
            "date",
            "date_from",
            "date_to",
            "q",
        ]

    def by_scenario(self, qs, name, value):
        return qs.filter(
            **{"scenario_id": int(value)} if value.isdigit() else {"scenario__name": value}
        )

    def on_host(self, qs, name, value):
        return qs.filter(Exists(RunTarget.objects.filter(run_id=OuterRef("pk"), host__name=value)))

    def on_day(self, qs, name, value: date):
        return qs.filter(
            created__gte=start_of_day(value), created__lt=start_of_day(value + timedelta(1))
        )

    def from_day(self, qs, name, value: date):
        return qs.filter(created__gte=start_of_day(value))

    def to_day(self, qs, name, value: date):
        return qs.filter(created__lt=start_of_day(value + timedelta(1)))

    def search(self, qs, name, value):
        return qs.filter(Q(name__icontains=value) | Q(reason__icontains=value))


class CapacityRunFilter(ListFilterSet):
    """``host``: the capacity runs of that host (by the name it had at launch)."""

    host = django_filters.CharFilter(
        field_name="host_name",
        max_length=64,
        help_text="host name, exactly",
        error_messages={"max_length": "%(show_value)d characters; at most %(limit_value)d"},
    )

    class Meta:
        model = CapacityRun
        fields = ["host"]
