"""The login form and the API token view, with the brute-force throttle's refusal spelt out
(HTTP 429, ``Retry-After``); the throttle itself is in accounts.throttle."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from . import throttle


class ThrottledAuthenticationForm(AuthenticationForm):
    retry_after: int | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        self.retry_after = throttle.retry_after(throttle.client_address(self.request), username)
        if self.retry_after:
            raise forms.ValidationError(throttle.refusal(self.retry_after), code="throttled")
        return super().clean()


class ThrottledLoginView(LoginView):
    form_class = ThrottledAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class ThrottledObtainAuthToken(ObtainAuthToken):
    """POST username/password for a token; refused with 429 while throttled."""

    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        wait = throttle.retry_after(
            throttle.client_address(request), username if isinstance(username, str) else None
        )
        if wait:
            return Response(
                {"detail": throttle.refusal(wait)}, status=429, headers={"Retry-After": str(wait)}
            )
        return super().post(request, *args, **kwargs)


obtain_auth_token = ThrottledObtainAuthToken.as_view()
