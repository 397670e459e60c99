"""REST API of the inventory: hosts, VMs, VDI endpoints (password write-only, never returned)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from atp_site.api_fields import StrictCharField, StrictModelSerializer, TagsField
from atp_site.filters import ListFilterBackend
from atp_site.permissions import ViewerReadAdminWrite, ViewerReadOperatorWrite

from . import selectors, tasks
from .filters import VmFilter
from .models import Host, VdiEndpoint, VirtualMachine


class QueuedSerializer(serializers.Serializer):
    """The answer of an action queued for a worker (202); its outcome is stored on the object
    (GET it again) and broadcast on the inventory websocket."""

    queued = serializers.BooleanField()
    action = serializers.CharField()
    target = serializers.CharField()


def _queue(task, action_name: str, target: str, *args) -> Response:
    from rest_framework.exceptions import APIException

    error = tasks.queue(task, *args)
    if error:
        exc = APIException(error)
        exc.status_code = 503
        raise exc
    return Response({"queued": True, "action": action_name, "target": target}, status=202)


class HostSerializer(StrictModelSerializer):
    health = serializers.CharField(read_only=True)
    tags = TagsField()

    class Meta:
        model = Host
        fields = [
            "id",
            "name",
            "uri",
            "description",
            "credentials_ref",
            "tags",
            "slots",
            "enabled",
            "health",
            "reachable",
            "libvirt_version",
            "hypervisor_version",
            "cpus",
            "memory_mib",
            "running_domains",
            "last_error",
            "last_checked",
            "created",
        ]
        read_only_fields = [
            "reachable",
            "libvirt_version",
            "hypervisor_version",
            "cpus",
            "memory_mib",
            "running_domains",
            "last_error",
            "last_checked",
            "created",
        ]


class VirtualMachineSerializer(StrictModelSerializer):
    tags = TagsField()
    host = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    vdi_endpoint = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = VirtualMachine
        fields = [
            "id",
            "name",
            "host",
            "vdi_endpoint",
            "vdi_id",
            "source",
            "desk_pool",
            "uuid",
            "state",
            "tags",
            "vcpus",
            "memory_mib",
            "thumbnail_url",
            "thumbnail_taken",
            "last_seen",
        ]
        read_only_fields = [f for f in fields if f != "tags"]

    def get_thumbnail_url(self, vm) -> str | None:
        return f"/vms/{vm.pk}/thumbnail.png" if vm.thumbnail else None


class VdiEndpointSerializer(StrictModelSerializer):
    tags = TagsField()
    password = StrictCharField(
        write_only=True, required=False, allow_blank=False, style={"input_type": "password"}
    )
    health = serializers.CharField(read_only=True)
    has_password = serializers.BooleanField(read_only=True)
    libvirt_host = serializers.SlugRelatedField(
        slug_field="name", queryset=Host.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = VdiEndpoint
        fields = [
            "id",
            "name",
            "url",
            "username",
            "password",
            "has_password",
            "verify_tls",
            "tags",
            "enabled",
            "name_prefix",
            "libvirt_host",
            "health",
            "reachable",
            "last_error",
            "last_checked",
            "last_synced",
            "last_verify",
            "created",
        ]
        read_only_fields = [
            "reachable",
            "last_error",
            "last_checked",
            "last_synced",
            "last_verify",
            "created",
        ]

    def validate(self, attrs):
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": "required for a new endpoint"})
        return attrs

    def create(self, validated):
        password = validated.pop("password")
        endpoint = VdiEndpoint(**validated)
        endpoint.set_password(password)
        endpoint.save()
        return endpoint

    def update(self, instance, validated):
        password = validated.pop("password", None)
        for key, value in validated.items():
            setattr(instance, key, value)
        if password:
            instance.set_password(password)
        instance.save()
        return instance


class OperatorActionMixin:
    """Reads for viewers, create/update/delete for admins, actions (test/sync) for operators."""

    def get_permissions(self):
        if getattr(self, "action", None) in self.operator_actions:
            return [ViewerReadOperatorWrite()]
        return [ViewerReadAdminWrite()]


class HostViewSet(OperatorActionMixin, viewsets.ModelViewSet):
    queryset = Host.objects.order_by("name")
    serializer_class = HostSerializer
    lookup_field = "name"
    operator_actions = ("test", "sync")

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, name=None):
        """Queue a connection test; the host's health fields show the outcome when done."""
        host = self.get_object()
        return _queue(tasks.test_host, "test", host.name, host.pk)

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request, name=None):
        """Queue a sync: the host's VMs as libvirt reports them, with thumbnails of running
        ones (``?thumbnails=0``: without)."""
        host = self.get_object()
        thumbnails = request.query_params.get("thumbnails", "1") not in ("0", "false")
        return _queue(tasks.sync_host, "sync", host.name, host.pk, thumbnails)


class VirtualMachineViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """VMs as last synced, filtered by ``hosts.filters.VmFilter`` (the /vms/ page's filters);
    only ``tags`` can be changed (operators)."""

    serializer_class = VirtualMachineSerializer
    permission_classes = [ViewerReadOperatorWrite]

    filter_backends = [ListFilterBackend]
    filterset_class = VmFilter

    def get_queryset(self):
        return selectors.vms()


class VdiEndpointViewSet(OperatorActionMixin, viewsets.ModelViewSet):
    queryset = VdiEndpoint.objects.select_related("libvirt_host").order_by("name")
    serializer_class = VdiEndpointSerializer
    lookup_field = "name"
    operator_actions = ("test", "sync", "verify")

    def _action(self, name: str) -> Response:
        endpoint = self.get_object()
        return _queue(tasks.vdi_action, name, endpoint.name, name, endpoint.pk)

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, name=None):
        """Queue a login test with the stored credentials (health fields show the outcome)."""
        return self._action("test")

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request, name=None):
        """Queue a sync of the platform's VMs into the inventory."""
        return self._action("sync")

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, name=None):
        """Queue ``vdi verify`` (platform vs libvirt); ``last_verify`` holds the report."""
        return self._action("verify")
