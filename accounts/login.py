"""The login form and the API token view, with the brute-force throttle's refusal spelt out
(HTTP 429, ``Retry-After``); the throttle itself is in accounts.throttle."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response

from . import throttle, tokens
from .tokens import ExpiringTokenAuthentication


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
    """POST username/password for a token (a fresh one when the old expired); refused with 429
    while throttled. DELETE revokes the caller's own token."""

    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]

    def perform_authentication(self, request):
        """Lazy: a POST of username/password works whatever stale token header comes along."""

    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        wait = throttle.retry_after(
            throttle.client_address(request), username if isinstance(username, str) else None
        )
        if wait:
            return Response(
                {"detail": throttle.refusal(wait)}, status=429, headers={"Retry-After": str(wait)}
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = tokens.valid_token(serializer.validated_data["user"])
        end = tokens.expires_at(token)
        return Response({"token": token.key, "expires": end.isoformat() if end else None})

    def delete(self, request, *args, **kwargs):
        """Revoke the caller's own token (authenticated by it or by the session)."""
        if not request.user or not request.user.is_authenticated:
            raise NotAuthenticated()
        tokens.revoke(request.user)
        return Response(status=204)


obtain_auth_token = ThrottledObtainAuthToken.as_view()
