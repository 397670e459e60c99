"""REST API of runs: list/detail, launch, cancel, re-run, events since N, report (JSON/JUnit).

Everyone with a role reads; operators launch, cancel and re-run.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings

from atp_core.errors import InvalidInput
from atp_site.api_fields import AllowedChoiceField, StrictCharField, StrictIntegerField
from atp_site.filters import ListFilterBackend
from atp_site.permissions import ViewerReadOperatorWrite

from . import presenters, reports, selectors, services
from .filters import RunFilter
from .models import BUILD_MAX, RETRIES_MAX, Artifact, Run, RunTarget, StepResult


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = StepResult
        fields = [
            "step_id",
            "iteration",
            "ordinal",
            "name",
            "type",
            "depth",
            "phase",
            "status",
            "attempt",
            "started",
            "finished",
            "duration",
            "error",
            "output",
        ]


class ArtifactSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    target = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = Artifact
        fields = ["id", "name", "kind", "mime", "size", "target", "step_id", "url", "created"]

    def get_url(self, artifact) -> str:
        return artifact.file.url if artifact.file else ""


class TargetSerializer(serializers.ModelSerializer):
    host = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    steps = StepSerializer(many=True, read_only=True)

    class Meta:
        model = RunTarget
        fields = [
            "name",
            "host",
            "vm_name",
            "host_uri",
            "state",
            "result",
            "started",
            "finished",
            "totals",
            "steps",
        ]


class TargetSummarySerializer(serializers.ModelSerializer):
    host = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = RunTarget
        fields = ["name", "host", "vm_name", "state", "result"]


class RunSerializer(serializers.ModelSerializer):
    scenario = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    launched_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    duration = serializers.FloatField(read_only=True, allow_null=True)
    revision = serializers.IntegerField(source="revision.number", read_only=True)
    run_targets = TargetSummarySerializer(many=True, read_only=True)
    schedule = serializers.CharField(
        source="schedule_name", read_only=True, help_text="the schedule's name at launch"
    )

    class Meta:
        model = Run
        fields = [
            "id",
            "name",
            "scenario",
            "revision",
            "state",
            "result",
            "reason",
            "launched_by",
            "created",
            "started",
            "finished",
            "duration",
            "queue",
            "worker",
            "attempt",
            "max_attempts",
            "cancel_requested",
            "last_seq",
            "totals",
            "targets",
            "variables",
            "rerun_of",
            "schedule",
            "build",
            "schedule_id",
            "vdi_endpoint",
            "pause_on",
            "run_targets",
        ]


class PartSerializer(serializers.Serializer):
    """A part of a run on several hosts (``runs.part_status.PartStatus``)."""

    host = serializers.CharField(source="part.host_name", help_text="the host's name at launch")
    queue = serializers.CharField(source="part.queue", help_text="Celery queue, host.<name>")
    state = serializers.CharField(source="part.state")
    result = serializers.CharField(source="part.result", allow_null=True)
    reason = serializers.CharField(source="part.reason")
    attempt = serializers.IntegerField(source="part.attempt")
    worker = serializers.CharField(
        source="part.worker", help_text="the worker that claimed it (or took its task)"
    )
    task_id = serializers.CharField(source="part.task_id")
    dispatched_at = serializers.DateTimeField(source="part.dispatched_at", allow_null=True)
    taken_at = serializers.DateTimeField(
        source="part.taken_at", allow_null=True, help_text="when a worker last took its task"
    )
    started = serializers.DateTimeField(
        source="part.started", allow_null=True, help_text="when a worker claimed it"
    )
    heartbeat = serializers.DateTimeField(source="part.heartbeat", allow_null=True)
    finished = serializers.DateTimeField(source="part.finished", allow_null=True)
    waiting_for = serializers.ChoiceField(
        choices=["", "worker", "slot"],
        help_text="a queued part: a worker of its host's queue, or a free slot of its host",
    )
    waiting_since = serializers.DateTimeField(allow_null=True)
    last_worker_seen = serializers.CharField(
        source="last_seen.worker", allow_null=True, default=None
    )
    last_worker_seen_at = serializers.DateTimeField(
        source="last_seen.at", allow_null=True, default=None
    )
    no_worker_deadline = serializers.DateTimeField(
        source="deadline_at",
        allow_null=True,
        help_text="when its targets end with error if no worker of its host takes it",
    )
    note = serializers.CharField(help_text="what it waits for, in words")


class RunDetailSerializer(RunSerializer):
    run_targets = TargetSerializer(many=True, read_only=True)
    artifacts = serializers.SerializerMethodField()
    source = serializers.CharField(read_only=True)
    parts = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "source", "artifacts", "parts"]

    @extend_schema_field(PartSerializer(many=True))
    def get_parts(self, run) -> list[dict]:
        """One per host for a run on several hosts; empty for a run on one host."""
        from .part_status import describe

        return PartSerializer(describe(run), many=True).data

    @extend_schema_field(ArtifactSerializer(many=True))
    def get_artifacts(self, run) -> list[dict]:
        items = getattr(run, "all_artifacts", None)
        if items is None:
            items = run.artifacts.select_related("target")
        return ArtifactSerializer(items, many=True).data


class LaunchOptionsSerializer(serializers.Serializer):
    """A launch of a known scenario: which revision, on what, with which overrides, and the
    launch's own options (``services.launch_run``)."""

    revision = StrictIntegerField(
        required=False, min_value=1, help_text="revision number (default: the current one)"
    )
    targets = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="[{vm, host}] or [{tag}] or [{desk_pool}]; empty: the scenario's own targets",
    )
    variables = serializers.DictField(
        required=False,
        help_text="overrides of the scenario's variables (name: value); retries are not one",
    )
    retries = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=RETRIES_MAX,
        help_text="new attempts of the run when its worker is lost (default 0)",
    )
    vdi_endpoint = StrictCharField(
        required=False,
        max_length=64,
        help_text="VDI endpoint name (default: the scenario's vdi_login endpoint, or the first)",
    )
    pause_on = StrictCharField(
        required=False,
        max_length=80,
        help_text="developer mode: failure, mismatch or step:<id> (default: the scenario's)",
    )
    build = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=BUILD_MAX,
        help_text="the build under test (a product version, a CI build number): "
        "the matrix page groups runs by it",
    )

    def validate_variables(self, value: dict) -> dict:
        try:
            return services.check_variables(value)
        except InvalidInput as exc:
            raise ValidationError(str(exc)) from None


class LaunchSerializer(LaunchOptionsSerializer):
    scenario = StrictCharField(help_text="scenario name", max_length=120)


def launch_with_options(revision, values: dict, user) -> Run:
    """``services.launch_run`` of ``revision`` with a ``LaunchOptionsSerializer``'s values."""
    return services.launch_run(
        revision,
        values.get("targets") or [],
        values.get("variables") or {},
        user,
        vdi_endpoint=values.get("vdi_endpoint") or None,
        pause_on=values.get("pause_on") or None,
        retries=values.get("retries") or 0,
        build=values.get("build") or None,
    )


class ResumeSerializer(serializers.Serializer):
    target = StrictCharField(max_length=255, help_text="the paused target's name (host/vm)")
    decision = AllowedChoiceField(
        choices=["retry", "skip", "continue"],
        help_text="retry the step, skip it, or continue (the failure stands)",
    )


EventsResponse = inline_serializer(
    "RunEventsResponse",
    {
        "events": serializers.ListField(child=serializers.DictField()),
        "state": serializers.CharField(),
        "result": serializers.CharField(allow_null=True),
        "reason": serializers.CharField(),
        "last_seq": serializers.IntegerField(),
        "next_after": serializers.IntegerField(),
        "more": serializers.BooleanField(),
    },
)


class _NoFormatOverride:
    """api_settings without ``?format=`` renderer selection (``report`` uses ``format``)."""

    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class ReportNegotiation(DefaultContentNegotiation):
    settings = _NoFormatOverride()


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Runs, newest first, filtered by ``runs.filters.RunFilter`` (the runs page's filters)."""

    permission_classes = [ViewerReadOperatorWrite]
    serializer_class = RunSerializer
    filter_backends = [ListFilterBackend]
    filterset_class = RunFilter

    def get_queryset(self):
        if self.action == "list":
            return selectors.runs().select_related("revision")
        return Run.objects.select_related("scenario", "revision", "launched_by")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return RunDetailSerializer
        return RunSerializer

    def retrieve(self, request, *args, **kwargs):
        try:
            run = selectors.run_detail(int(kwargs["pk"]))
        except (Run.DoesNotExist, ValueError):
            raise NotFound("no such run") from None
        return Response(RunDetailSerializer(run, context={"request": request}).data)

    @extend_schema(request=LaunchSerializer, responses={201: RunSerializer})
    def create(self, request):
        from scenarios.selectors import RevisionNotFound, get_revision

        data = LaunchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            revision = get_revision(values["scenario"], values.get("revision"))
        except RevisionNotFound as exc:
            raise NotFound(str(exc)) from None
        if revision is None:
            raise InvalidInput(f"scenario {values['scenario']} has no runnable revision")
        run = launch_with_options(revision, values, request.user)
        run = self.get_queryset().get(pk=run.pk)
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = self.get_object()
        run = services.request_cancel(run, request.user)
        return Response(RunSerializer(run).data)

    @extend_schema(request=ResumeSerializer, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Developer mode: end a paused target's pause (``runs.pausing``)."""
        from .pausing import request_resume

        run = self.get_object()
        data = ResumeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = run.run_targets.filter(name=data.validated_data["target"]).first()
        if target is None:
            raise NotFound(f"run {run.pk} has no target {data.validated_data['target']!r}")
        request_resume(run, target, data.validated_data["decision"], request.user)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={201: RunSerializer})
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        run = self.get_object()
        new = services.rerun(run, request.user)
        new = self.get_queryset().get(pk=new.pk)
        return Response(RunSerializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="only events with a larger seq"),
            OpenApiParameter("limit", int, description="at most this many (max 500)"),
        ],
        responses=EventsResponse,
    )
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """Stored events after ``after`` (the polling twin of the websocket)."""
        run = self.get_object()
        try:
            page = selectors.events_page(
                run, request.query_params.get("after", 0), request.query_params.get("limit", 500)
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        return Response(page)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def investigation(self, request, pk=None):
        """This run next to the last run of its scenario that passed before it (the
        investigation page): failed steps, revision diff, variables, per target host, VM, boot
        id and domain XML diff, the workers and the packages whose versions differ."""
        run = self.get_object()
        return Response(presenters.investigation_json(run.pk))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", str, enum=["json", "junit"], description="json (default) or junit"
            )
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "application/xml"): str},
    )
    @action(detail=True, methods=["get"], content_negotiation_class=ReportNegotiation)
    def report(self, request, pk=None):
        """The run's report, built from its stored steps (the same JSON and JUnit as the
        report page's downloads and the engine's CLI)."""
        run = self.get_object()
        fmt = request.query_params.get("format") or request.query_params.get("fmt") or "json"
        if fmt not in ("json", "junit"):
            raise ValidationError({"format": "json or junit"})
        if fmt == "junit":
            body = reports.report_junit(run.pk)
            response = HttpResponse(body, content_type="application/xml; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-junit.xml"'
            return response
        return Response(reports.report_json(run.pk))

    @extend_schema(
        parameters=[
            OpenApiParameter("scenario", str, description="only this scenario (name)"),
            OpenApiParameter("host", str, description="only targets on this host (name)"),
            OpenApiParameter("pool", str, description="only desks of this desk pool"),
            OpenApiParameter("days", int, description="finished in the last N days (1-365, 30)"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["get"], url_path="metric-trends")
    def metric_trends(self, request):
        """Latency p50/p95 per action kind and logon phase median/p95 across finished runs,
        per scenario, host and desk pool, with one point per run (the web's metrics trends)."""
        raw = request.query_params.get("days") or "30"
        try:
            days = int(raw)
        except ValueError:
            raise ValidationError({"days": f"{raw!r} is not a whole number of days"}) from None
        if not 1 <= days <= 365:
            raise ValidationError({"days": f"{days} is outside 1-365"})
        return Response(presenters.metric_trends(request.query_params, days=days))
