"""REST API of schedules and notifications (as the pages: everyone reads, operators manage).

Writes go through ``schedules.services`` (the beat entry follows every change) and the same
checks as the forms: a bad interval, crontab, target or e-mail address is a 400 naming the field.
"""

from __future__ import annotations

from django.core.validators import validate_email
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from atp_core.errors import InvalidInput
from atp_site.api_fields import (
    AllowedChoiceField,
    StrictCharField,
    StrictIntegerField,
    StrictModelSerializer,
)
from atp_site.filters import ListFilterBackend, ListFilterSet, RowIdFilter
from atp_site.permissions import ViewerReadOperatorWrite
from runs.models import RETRIES_MAX
from scenarios.models import Scenario

from . import services
from .forms import RESULTS
from .models import Notification, NotificationHook, Schedule


class ScheduleSerializer(StrictModelSerializer):
    scenario = serializers.SlugRelatedField(
        slug_field="name", queryset=Scenario.objects.filter(archived=False)
    )
    targets = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        max_length=100,
        help_text="as for a launch: [{vm, host}, {tag}, {desk_pool}]; empty: the scenario's",
    )
    variables = serializers.DictField(
        required=False, help_text="name: value overrides of the scenario's variables"
    )
    retries = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=RETRIES_MAX,
        help_text="new attempts of each run after a lost worker (default 0)",
    )
    every_seconds = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=services.MIN_INTERVAL,
        help_text="for an interval schedule",
    )
    when = serializers.CharField(read_only=True)
    next_fire = serializers.SerializerMethodField()
    blocked = serializers.SerializerMethodField(
        help_text="why beat does not launch it (its creator deactivated or demoted), or ''"
    )
    last_run = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "scenario",
            "targets",
            "variables",
            "retries",
            "build",
            "kind",
            "every_seconds",
            "crontab",
            "enabled",
            "when",
            "next_fire",
            "last_launched",
            "last_run",
            "last_error",
            "blocked",
            "created",
        ]
        read_only_fields = ["last_launched", "last_error", "created"]

    def get_blocked(self, schedule) -> str:
        return services.creator_problem(schedule)

    def get_next_fire(self, schedule) -> str | None:
        when = services.next_fire(schedule)
        return when.isoformat() if when else None

    def validate_variables(self, value):
        from runs.services import check_variables

        try:
            return check_variables(value)
        except InvalidInput as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_build(self, value):
        try:
            return services.check_build(value)
        except InvalidInput as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs):
        merged = {
            f: attrs.get(f, getattr(self.instance, f, None))
            for f in ("scenario", "targets", "kind", "every_seconds", "crontab")
        }
        kind = merged["kind"] or Schedule.KIND_INTERVAL
        try:
            if kind == Schedule.KIND_INTERVAL:
                if not merged["every_seconds"]:
                    raise serializers.ValidationError(
                        {"every_seconds": "required for an interval schedule"}
                    )
                attrs["crontab"] = ""
            else:
                services.parse_crontab(merged["crontab"] or "")
                attrs["every_seconds"] = None
        except InvalidInput as exc:
            raise serializers.ValidationError({"crontab": str(exc)}) from None
        probe = Schedule(scenario=merged["scenario"], targets=merged["targets"] or [])
        try:
            services.validate_targets(probe)
        except InvalidInput as exc:
            raise serializers.ValidationError({"targets": str(exc)}) from None
        return attrs

    def create(self, validated):
        schedule = Schedule(**validated, created_by=self.context["request"].user)
        return services.save_schedule(schedule)

    def update(self, instance, validated):
        for key, value in validated.items():
            setattr(instance, key, value)
        return services.save_schedule(instance)


class ScheduleViewSet(viewsets.ModelViewSet):
    """Periodic runs of a scenario (fired by Celery beat; times in UTC)."""

    queryset = (
        Schedule.objects.select_related(
            "scenario",
            "last_run",
            "periodic_task__interval",
            "periodic_task__crontab",
            "created_by",
        )
        .prefetch_related("created_by__groups")
        .order_by("name")
    )
    serializer_class = ScheduleSerializer
    permission_classes = [ViewerReadOperatorWrite]
    lookup_field = "name"

    def perform_destroy(self, instance):
        services.delete_schedule(instance)

    @extend_schema(request=None, responses=dict)
    @action(detail=True, methods=["post"], url_path="run")
    def run_now(self, request, name=None):
        """Launch one run now (also when the schedule is disabled)."""
        schedule = self.get_object()
        run = services.launch_schedule(schedule, manual=True)
        if run is None:
            schedule.refresh_from_db()
            return Response(
                {"ok": False, "error": schedule.last_error}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response({"ok": True, "run": run.pk}, status=status.HTTP_201_CREATED)


class NotificationHookSerializer(StrictModelSerializer):
    scenario = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Scenario.objects.all(),
        required=False,
        allow_null=True,
        help_text="empty: every scenario",
    )
    results = serializers.ListField(
        child=AllowedChoiceField(choices=RESULTS),
        required=False,
        max_length=len(RESULTS),
        help_text="only runs ending so; empty: every result",
    )
    emails = StrictCharField(
        required=False, allow_blank=True, help_text="comma separated addresses"
    )

    class Meta:
        model = NotificationHook
        fields = ["id", "name", "scenario", "url", "emails", "results", "enabled", "created"]
        read_only_fields = ["created"]

    def validate_emails(self, value: str) -> str:
        addresses = [a.strip() for a in (value or "").replace(";", ",").split(",") if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except Exception:  # noqa: BLE001 - Django's ValidationError
                raise serializers.ValidationError(f"{address!r} is not an e-mail address") from None
        return ", ".join(addresses)

    def validate_url(self, value: str) -> str:
        from runs.webhooks import WebhookRefused, check_url

        if value:
            try:
                check_url(value)
            except WebhookRefused as exc:
                raise serializers.ValidationError(str(exc)) from None
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("url") and not _may_manage(self.context.get("request")):
            data["url"] = instance.masked_url  # paths and queries often carry a token
        return data

    def validate(self, attrs):
        url = attrs.get("url", getattr(self.instance, "url", ""))
        emails = attrs.get("emails", getattr(self.instance, "emails", ""))
        if not url and not emails:
            raise serializers.ValidationError("give a webhook url, e-mail addresses, or both")
        return attrs


class NotificationHookViewSet(viewsets.ModelViewSet):
    """Where finished runs' results are sent: a webhook URL and/or e-mail addresses."""

    queryset = NotificationHook.objects.select_related("scenario").order_by("name")
    serializer_class = NotificationHookSerializer
    permission_classes = [ViewerReadOperatorWrite]
    lookup_field = "name"

    @transaction.atomic
    def perform_destroy(self, instance):
        instance.delete()


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = [
            "id",
            "run",
            "channel",
            "target",
            "ok",
            "status_code",
            "attempts",
            "detail",
            "created",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not _may_manage(self.context.get("request")):
            data["target"] = instance.masked_target
        return data


def _may_manage(request) -> bool:
    from atp_site.permissions import has_role

    return request is not None and has_role(request.user, "operator")


class NotificationFilter(ListFilterSet):
    """``run``: the deliveries of that run."""

    run = RowIdFilter(method="of_run", what="run id", help_text="a run's id")

    class Meta:
        model = Notification
        fields = ["run"]

    def of_run(self, qs, name, value: int):
        return qs.filter(run_id=value)


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Deliveries of finished runs (newest first; ``?run=<id>`` for one run's)."""

    serializer_class = NotificationSerializer
    permission_classes = [ViewerReadOperatorWrite]
    filter_backends = [ListFilterBackend]
    filterset_class = NotificationFilter

    def get_queryset(self):
        return Notification.objects.order_by("-created", "-id")
