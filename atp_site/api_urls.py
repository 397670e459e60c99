"""The REST API root (/api/): routers of every app, the OpenAPI schema and its docs page.

Token auth: POST username/password to /api/token/ for a token, then send
``Authorization: Token <key>``. Session auth works for the browser.
"""

from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from accounts.api import UserViewSet
from accounts.login import obtain_auth_token
from hosts.api import HostViewSet, VdiEndpointViewSet, VirtualMachineViewSet
from runs.api import RunViewSet
from runs.capacity_api import CapacityRunViewSet
from scenarios.api import ReferenceImageViewSet, ScenarioSecretViewSet, ScenarioViewSet
from schedules.api import NotificationHookViewSet, NotificationViewSet, ScheduleViewSet

SWAGGER_UI = "vendor/swagger-ui-5.35.0"


class SchemaView(SpectacularAPIView):
    permission_classes = [IsAuthenticated]


class DocsView(SpectacularSwaggerView):
    """Swagger UI from the vendored files (no CDN); needs a login like every other page."""

    permission_classes = [IsAuthenticated]

    @staticmethod
    def _swagger_ui_resource(filename):
        return static(f"{SWAGGER_UI}/{filename}")

    @staticmethod
    def _swagger_ui_favicon():
        return static(f"{SWAGGER_UI}/favicon-32x32.png")


router = DefaultRouter()
router.register("hosts", HostViewSet, basename="host")
router.register("vms", VirtualMachineViewSet, basename="vm")
router.register("vdi-endpoints", VdiEndpointViewSet, basename="vdi-endpoint")
router.register("scenarios", ScenarioViewSet, basename="scenario")
router.register("references", ReferenceImageViewSet, basename="reference")
router.register("secrets", ScenarioSecretViewSet, basename="secret")
router.register("runs", RunViewSet, basename="run")
router.register("capacity", CapacityRunViewSet, basename="capacity-run")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("notifications", NotificationHookViewSet, basename="notification")
router.register("notification-deliveries", NotificationViewSet, basename="notification-delivery")
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    path("", include(router.urls)),
    path("token/", obtain_auth_token, name="api-token"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
]
