"""Brute-force throttle of every password login: the login form, ``/api/token/`` and the admin.

Failed logins are stored (``LoginFailure``, one row each; the database is shared by every web
process). Within ``ATP_LOGIN_WINDOW`` seconds, an address may fail
``ATP_LOGIN_FAILURES_PER_ADDRESS`` times and a username ``ATP_LOGIN_FAILURES_PER_USERNAME``
times; past that, logins from that
address or for that username are refused (without checking the password) until the oldest
failure leaves the window. A successful login clears its username's failures. Attempts refused
by the throttle are not stored, so the table stays small under attack.

The backend (``ThrottledModelBackend``) refuses on every door; the login view and the token
view check first so that they can say why (HTTP 429 with ``Retry-After``).
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.utils import timezone

from .models import LoginFailure


def client_address(request) -> str:
    """The caller's address (REMOTE_ADDR: behind a proxy, the proxy sets it from the client)."""
    meta = getattr(request, "META", None) or {}
    return str(meta.get("REMOTE_ADDR") or "unknown")[:64]


def _window() -> timedelta:
    return timedelta(seconds=settings.ATP_LOGIN_WINDOW)


def retry_after(address: str, username: str | None) -> int | None:
    """Seconds until a login from ``address`` for ``username`` is allowed again, or None."""
    now = timezone.now()
    since = now - _window()
    recent = LoginFailure.objects.filter(at__gt=since)
    waits = []
    checks = [("address", address, settings.ATP_LOGIN_FAILURES_PER_ADDRESS)]
    if username:
        checks.append(("username", username[:150], settings.ATP_LOGIN_FAILURES_PER_USERNAME))
    for field, value, limit in checks:
        times = list(
            recent.filter(**{field: value}).order_by("-at").values_list("at", flat=True)[:limit]
        )
        if len(times) >= limit:
            waits.append((times[-1] + _window() - now).total_seconds())
    if not waits:
        return None
    return max(1, math.ceil(max(waits)))


def refusal(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return (
        "Too many failed logins from this address or for this user: try again in"
        f" {minutes} minute{'s' if minutes != 1 else ''}."
    )


class ThrottledModelBackend(ModelBackend):
    """Django's model backend, refusing while the address or the username is throttled."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        name = username if username is not None else kwargs.get(self._username_field())
        if request is not None and retry_after(client_address(request), name):
            raise PermissionDenied("too many failed logins")
        return super().authenticate(request, username=username, password=password, **kwargs)

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


@receiver(user_login_failed)
def _record_failure(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    address = client_address(request)
    username = str(credentials.get("username") or "")[:150]
    if retry_after(address, username):  # refused by the throttle: not a new guess
        return
    now = timezone.now()
    LoginFailure.objects.filter(at__lt=now - _window()).delete()
    LoginFailure.objects.create(address=address, username=username, at=now)


@receiver(user_logged_in)
def _clear_failures(sender, request, user, **kwargs):
    LoginFailure.objects.filter(username=user.get_username()).delete()
