from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.http import JsonResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView

from accounts.login import ThrottledLoginView


@login_not_required
def healthz(_request):
    return JsonResponse({"status": "ok"})


# The admin's own login form would get around the throttled site login: an anonymous visitor
# is sent to the site's login page first (as allauth's docs do for the admin).
admin.site.login = login_required(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(
        "favicon.ico",
        login_not_required(
            require_GET(RedirectView.as_view(url=static("atp/favicon.svg"), permanent=True))
        ),
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
