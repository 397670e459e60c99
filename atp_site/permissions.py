"""Roles: viewer (read), operator (run, edit scenarios), admin (hosts, endpoints, users).

A role is a Django group of that name; superusers are admins; each role includes the ones
below it. Pages use ``role_required``; the API uses the DRF permission classes.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

ROLES = ("viewer", "operator", "admin")
_RANK = {name: i for i, name in enumerate(ROLES)}


def user_role(user) -> str | None:
    """The highest role of ``user``, or None (anonymous, or no role given)."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        return "admin"
    names = set(user.groups.values_list("name", flat=True))
    for role in reversed(ROLES):
        if role in names:
            return role
    return None


def has_role(user, role: str) -> bool:
    current = user_role(user)
    return current is not None and _RANK[current] >= _RANK[role]


def role_required(role: str):
    """View decorator: 403 unless the user has at least ``role`` (login is enforced globally)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, role):
                raise PermissionDenied(f"this needs the {role} role")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class RolePermission(BasePermission):
    """Reads need ``read_role``; writes need ``write_role``."""

    read_role = "viewer"
    write_role = "operator"

    def has_permission(self, request, view) -> bool:
        needed = self.read_role if request.method in SAFE_METHODS else self.write_role
        return has_role(request.user, needed)


class ViewerReadOperatorWrite(RolePermission):
    pass


class ViewerReadAdminWrite(RolePermission):
    write_role = "admin"
