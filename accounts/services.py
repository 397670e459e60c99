"""User accounts and roles (viewer/operator/admin are Django groups; see atp_site.permissions)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from atp_core.errors import InvalidInput
from atp_site.permissions import ROLES


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role {role!r}: allowed {', '.join(ROLES)}")


@transaction.atomic
def set_role(user, role: str) -> None:
    """Give ``user`` exactly one role; admins are also staff+superuser (Django admin)."""
    _check_role(role)
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    user.is_staff = user.is_superuser = role == "admin"
    user.save(update_fields=["is_staff", "is_superuser"])


@transaction.atomic
def create_user(username: str, password: str, role: str, email: str = ""):
    _check_role(role)
    User = get_user_model()
    if not username or User.objects.filter(username=username).exists():
        raise InvalidInput(f"username {username!r}: empty or already taken")
    try:
        validate_password(password, user=User(username=username, email=email))
    except ValidationError as exc:
        raise InvalidInput("password: " + " ".join(exc.messages)) from None
    user = User.objects.create_user(username=username, password=password, email=email)
    set_role(user, role)
    return user


def users_with_roles():
    return get_user_model().objects.prefetch_related("groups").order_by("username")
