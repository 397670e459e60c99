from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView


def healthz(_request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("atp_site.api_urls")),
    path("", include("hosts.urls")),
    path("", include("scenarios.urls")),
    path("", include("accounts.urls")),
    path("", RedirectView.as_view(pattern_name="hosts:list", permanent=False), name="home"),
]
