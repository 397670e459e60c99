"""Failed logins, kept for the throttle's window (accounts.throttle)."""

from __future__ import annotations

from django.db import models


class LoginFailure(models.Model):
    """One failed login (the login form, /api/token/, the admin) by address and username."""

    address = models.CharField(max_length=64)
    username = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["address", "at"], name="loginfail_address_at"),
            models.Index(fields=["username", "at"], name="loginfail_username_at"),
        ]
