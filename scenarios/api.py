"""REST API of the scenario library: scenarios, revisions, validate, reference images."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from atp_site.api_fields import StrictCharField, StrictSlugField
from atp_site.filters import ListFilterBackend
from atp_site.permissions import RolePermission, ViewerReadOperatorWrite
from runs.api import LaunchOptionsSerializer, launch_with_options

from . import engine, name_check, selectors, services
from . import secrets as secret_service
from .filters import ReferenceFilter, ScenarioFilter
from .models import ReferenceImage, Scenario, ScenarioRevision, ScenarioSecret

ValidateResponse = inline_serializer(
    "ValidateResponse",
    {
        "ok": serializers.BooleanField(),
        "issues": inline_serializer(
            "ValidationIssue",
            {
                "line": serializers.IntegerField(allow_null=True),
                "column": serializers.IntegerField(allow_null=True),
                "path": serializers.CharField(),
                "message": serializers.CharField(),
                "allowed": serializers.JSONField(allow_null=True),
            },
            many=True,
        ),
        # names (VM, host, reference, VDI endpoint) not found here: they never block a save
        "warnings": inline_serializer(
            "ValidationWarning",
            {
                "line": serializers.IntegerField(allow_null=True),
                "column": serializers.IntegerField(allow_null=True),
                "path": serializers.CharField(),
                "message": serializers.CharField(),
                "allowed": serializers.JSONField(allow_null=True),
                "severity": serializers.CharField(),
            },
            many=True,
        ),
    },
)


LaunchResponse = inline_serializer("LaunchResponse", {"run": serializers.IntegerField()})


class AnyRole(RolePermission):
    """Read-only POSTs (validate): every role may call them, anonymous users may not."""

    write_role = "viewer"


class ContentSerializer(serializers.Serializer):
    content = StrictCharField(trim_whitespace=False, max_length=services.MAX_SCENARIO_BYTES)
    message = StrictCharField(required=False, allow_blank=True, max_length=255)


class RevisionSummarySerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ScenarioRevision
        fields = ["number", "author", "created", "message", "format", "content_sha256"]


class RevisionSerializer(RevisionSummarySerializer):
    class Meta(RevisionSummarySerializer.Meta):
        fields = [*RevisionSummarySerializer.Meta.fields, "content", "diff", "parsed"]


class ScenarioSerializer(serializers.ModelSerializer):
    current_revision = RevisionSummarySerializer(read_only=True)
    revision_count = serializers.IntegerField(read_only=True)
    content = StrictCharField(
        write_only=True, trim_whitespace=False, max_length=services.MAX_SCENARIO_BYTES
    )
    name = StrictSlugField(max_length=120, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="from the content's tags:"
    )

    class Meta:
        model = Scenario
        fields = [
            "id",
            "name",
            "title",
            "description",
            "tags",
            "archived",
            "current_revision",
            "revision_count",
            "created",
            "updated",
            "content",
        ]
        read_only_fields = ["title", "description", "tags", "created", "updated"]


class ScenarioViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Scenarios. Creating one needs valid content; its text changes through ``revisions``."""

    serializer_class = ScenarioSerializer
    permission_classes = [ViewerReadOperatorWrite]
    lookup_field = "name"

    filter_backends = [ListFilterBackend]
    filterset_class = ScenarioFilter

    def get_queryset(self):
        return selectors.scenarios()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        scenario = services.create_scenario(
            serializer.validated_data["content"],
            request.user,
            name=serializer.validated_data.get("name"),
        )
        scenario = self.get_queryset().get(pk=scenario.pk)
        return Response(self.get_serializer(scenario).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ContentSerializer, responses=ValidateResponse)
    @action(detail=False, methods=["post"], permission_classes=[AnyRole])
    def validate(self, request):
        """Validate text with the engine's loader; issues carry line and column."""
        serializer = ContentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = engine.validate(serializer.validated_data["content"])
        content = serializer.validated_data["content"]
        warnings = name_check.unknown_name_warnings(content) if result.ok else []
        return Response({"ok": result.ok, "issues": result.issues, "warnings": warnings})

    @extend_schema(responses=dict)
    @action(detail=False, methods=["get"], url_path="schema")
    def json_schema(self, request):
        """The scenario format's JSON Schema (generated by the engine)."""
        return Response(engine.json_schema())

    @extend_schema(methods=["get"], responses=RevisionSummarySerializer(many=True))
    @extend_schema(methods=["post"], request=ContentSerializer, responses=RevisionSerializer)
    @action(detail=True, methods=["get", "post"])
    def revisions(self, request, name=None):
        """GET: the history, newest first. POST: save content as the next revision."""
        scenario = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.revisions_of(scenario))
            return self.get_paginated_response(RevisionSummarySerializer(page, many=True).data)
        serializer = ContentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = services.save_revision(
            scenario,
            serializer.validated_data["content"],
            request.user,
            message=serializer.validated_data.get("message", ""),
        )
        return Response(
            RevisionSerializer(saved.revision).data,
            status=status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK,
        )

    @extend_schema(responses=RevisionSerializer)
    @action(detail=True, methods=["get"], url_path=r"revisions/(?P<number>\d+)")
    def revision(self, request, name=None, number=None):
        try:
            revision = selectors.get_revision(self.get_object(), number)
        except selectors.RevisionNotFound as exc:
            raise NotFound(str(exc)) from None
        return Response(RevisionSerializer(revision).data)

    @extend_schema(request=LaunchOptionsSerializer, responses={201: LaunchResponse})
    @action(detail=True, methods=["post"])
    def run(self, request, name=None):
        """Launch a run of a revision (default: the current one) on targets with overrides."""
        scenario = self.get_object()
        data = LaunchOptionsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            revision = selectors.get_revision(scenario, data.validated_data.get("revision"))
        except selectors.RevisionNotFound as exc:
            raise NotFound(str(exc)) from None
        if revision is None:
            raise NotFound(f"scenario {scenario.name} has no revision yet")
        run = launch_with_options(revision, data.validated_data, request.user)
        return Response({"run": run.pk}, status=status.HTTP_201_CREATED)


class ReferenceImageSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()
    candidates = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ReferenceImage
        fields = [
            "id",
            "name",
            "tags",
            "width",
            "height",
            "areas",
            "threshold",
            "source",
            "image_url",
            "candidates",
            "created",
            "updated",
        ]
        read_only_fields = fields

    def get_image_url(self, ref) -> str:
        return f"/references/{ref.name}/image.png"

    def get_candidates(self, ref) -> list[dict]:
        """The other images a check of this reference accepts (areas empty: the reference's)."""
        return [
            {
                "label": c.label,
                "width": c.width,
                "height": c.height,
                "areas": c.areas,
                "image_url": f"/references/{ref.name}/candidates/{c.label}/image.png",
            }
            for c in ref.candidates.all()
        ]


class ReferenceImageViewSet(viewsets.ReadOnlyModelViewSet):
    """Reference images, filtered by ``scenarios.filters.ReferenceFilter`` (``q``, ``tag``)."""

    queryset = ReferenceImage.objects.prefetch_related("candidates", "tagged_with").order_by("name")
    filter_backends = [ListFilterBackend]
    filterset_class = ReferenceFilter
    serializer_class = ReferenceImageSerializer
    permission_classes = [ViewerReadOperatorWrite]
    lookup_field = "name"


class AdminOnly(RolePermission):
    """Secrets: admins only, reads included (the names tell what a run logs into)."""

    read_role = "admin"
    write_role = "admin"


class ScenarioSecretSerializer(serializers.ModelSerializer):
    name = StrictCharField(max_length=64)
    value = StrictCharField(
        write_only=True,
        max_length=secret_service.MAX_VALUE_LENGTH,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="stored encrypted; never returned",
    )
    description = StrictCharField(max_length=255, required=False, allow_blank=True)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ScenarioSecret
        fields = ["name", "value", "description", "created", "updated", "updated_by"]
        read_only_fields = ["created", "updated", "updated_by"]


class ScenarioSecretViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Named secrets for ``${secret.NAME}``: the value is write-only (create, or replace with
    PUT/PATCH giving a new value); it is never returned."""

    queryset = ScenarioSecret.objects.select_related("updated_by").order_by("name")
    serializer_class = ScenarioSecretSerializer
    permission_classes = [AdminOnly]
    lookup_field = "name"

    def _save(self, serializer, name: str) -> None:
        data = serializer.validated_data
        secret = secret_service.set_secret(
            name, data["value"], self.request.user, data.get("description", "")
        )
        serializer.instance = secret

    def perform_create(self, serializer):
        name = serializer.validated_data["name"]
        if ScenarioSecret.objects.filter(name=name).exists():
            raise ValidationError({"name": [f"a secret named {name!r} exists: PUT to replace it"]})
        self._save(serializer, name)

    def perform_update(self, serializer):
        if "value" not in serializer.validated_data:
            raise ValidationError({"value": ["give the new value (it is never shown)"]})
        self._save(serializer, serializer.instance.name)
