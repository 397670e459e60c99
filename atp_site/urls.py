from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView

from accounts.login import ThrottledLoginView


def healthz(_request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(
        "favicon.ico",
        require_GET(RedirectView.as_view(url=static("atp/favicon.svg"), permanent=True)),
    ),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("atp_site.api_urls")),
    path("", include("hosts.urls")),
    path("", include("scenarios.urls")),
    path("", include("accounts.urls")),
    path("", include("schedules.urls")),
    path("", include("runs.urls")),
    path("", include("triage.urls")),
]
