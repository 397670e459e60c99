"""API tokens that expire and can be revoked.

A token older than ``ATP_API_TOKEN_TTL`` seconds (0 = never) answers 401 with a detail saying it
expired and where to get a new one; asking ``/api/token/`` for a token then issues a fresh one
instead of handing back the expired key. ``DELETE /api/token/`` revokes the caller's own token;
admins revoke anyone's with ``DELETE /api/users/<username>/token/``; the API token page has a
"Revoke" button.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def expires_at(token: Token) -> datetime | None:
    """When ``token`` expires, or None when tokens never expire (ATP_API_TOKEN_TTL=0)."""
    ttl = float(settings.ATP_API_TOKEN_TTL)
    return token.created + timedelta(seconds=ttl) if ttl > 0 else None


def is_expired(token: Token) -> bool:
    end = expires_at(token)
    return end is not None and timezone.now() >= end


def valid_token(user) -> Token:
    """The user's token, a new one when they have none or theirs expired."""
    token = Token.objects.filter(user=user).first()
    if token is not None and is_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def new_token(user) -> Token:
    """A new token for ``user``; any previous one is revoked."""
    revoke(user)
    return Token.objects.create(user=user)


def revoke(user) -> bool:
    """Delete ``user``'s token; True when there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens past ATP_API_TOKEN_TTL."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if is_expired(token):
            end = expires_at(token)
            raise exceptions.AuthenticationFailed(
                f"token expired at {end:%Y-%m-%d %H:%M:%S} UTC (tokens last "
                f"ATP_API_TOKEN_TTL={settings.ATP_API_TOKEN_TTL:g} s); get a new one from "
                "POST /api/token/ or the API token page /accounts/token/"
            )
        return user, token
