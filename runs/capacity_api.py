"""/api/capacity/: capacity runs (read: viewers; launch and cancel: operators). A run's JSON
carries its verdict, stop reason and every step (desks, inputs, p50/p95 in seconds, ratio)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from atp_core.orchestrator.capacity import MAX_DESKS_LIMIT, MAX_KEYS_LIMIT
from atp_site.api_fields import StrictCharField, StrictFloatField, StrictIntegerField
from atp_site.filters import ListFilterBackend
from atp_site.permissions import ViewerReadOperatorWrite

from . import capacity_presenters, capacity_services
from .filters import CapacityRunFilter
from .models import CapacityRun


class CapacityStepSerializer(serializers.Serializer):
    desks = serializers.IntegerField()
    inputs = serializers.IntegerField()
    p50 = serializers.FloatField(allow_null=True, help_text="seconds")
    p95 = serializers.FloatField(allow_null=True, help_text="seconds")
    ratio = serializers.FloatField(allow_null=True, help_text="p95 over the one-desk baseline")


class CapacityRunSerializer(serializers.ModelSerializer):
    launched_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    steps = CapacityStepSerializer(many=True, read_only=True)
    stop_line = serializers.SerializerMethodField(help_text="p95 (s) that stops the run")
    url = serializers.SerializerMethodField()

    class Meta:
        model = CapacityRun
        fields = [
            "id",
            "url",
            "host_name",
            "template",
            "max_desks",
            "keys",
            "threshold",
            "state",
            "result",
            "reason",
            "capacity",
            "at_least",
            "baseline_p95",
            "stop_line",
            "verdict",
            "steps",
            "launched_by",
            "created",
            "started",
            "finished",
            "queue",
            "worker",
        ]
        read_only_fields = fields

    def get_stop_line(self, run) -> float | None:
        ms = capacity_presenters.stop_line_ms(run)
        return None if ms is None else round(ms / 1000, 4)

    def get_url(self, run) -> str:
        return run.get_absolute_url()


class CapacityLaunchSerializer(serializers.Serializer):
    host = StrictCharField(max_length=64, help_text="host name")
    template = StrictCharField(max_length=255, help_text="the VM each desk copies")
    max_desks = StrictIntegerField(min_value=1, max_value=MAX_DESKS_LIMIT)
    keys = StrictIntegerField(
        min_value=1, max_value=MAX_KEYS_LIMIT, help_text="measured keys per desk and step"
    )
    threshold = StrictFloatField(
        required=False,
        default=0.15,
        min_value=0.001,
        max_value=1.0,
        help_text="p95 rise over the baseline that stops the run (0.15 = 15 %)",
    )


class CapacityRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Capacity runs, newest first; ``?host=NAME`` narrows to one host (``CapacityRunFilter``,
    the /capacity/ page's filter)."""

    permission_classes = [ViewerReadOperatorWrite]
    serializer_class = CapacityRunSerializer
    filter_backends = [ListFilterBackend]
    filterset_class = CapacityRunFilter

    def get_queryset(self):
        return CapacityRun.objects.select_related("launched_by")

    @extend_schema(request=CapacityLaunchSerializer, responses={201: CapacityRunSerializer})
    def create(self, request):
        data = CapacityLaunchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = capacity_services.launch_capacity(**data.validated_data, user=request.user)
        return Response(CapacityRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CapacityRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = capacity_services.request_cancel(self.get_object())
        return Response(CapacityRunSerializer(run).data)
