"""User management for admins: list, create, change role, (de)activate, API token."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from rest_framework.authtoken.models import Token

from atp_core.errors import InvalidInput
from atp_site.permissions import ROLES, role_required, user_role

from . import services, tokens


@require_GET
@role_required("admin")
def user_list(request):
    users = list(services.users_with_roles())
    rows = []
    for u in users:
        names = {g.name for g in u.groups.all()}  # prefetched: no query per user
        role = "admin" if u.is_superuser else next((r for r in reversed(ROLES) if r in names), "")
        rows.append((u, role))
    return render(request, "accounts/user_list.html", {"rows": rows, "roles": ROLES})


@require_POST
@role_required("admin")
def user_create(request):
    try:
        user = services.create_user(
            request.POST.get("username", "").strip(),
            request.POST.get("password", ""),
            request.POST.get("role", "viewer"),
            request.POST.get("email", "").strip(),
        )
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"Created {user.username} ({user_role(user)})")
    return redirect("accounts:users")


@require_POST
@role_required("admin")
def user_update(request, user_id: int):
    user = get_object_or_404(get_user_model(), pk=user_id)
    try:
        if "role" in request.POST:
            if user == request.user and request.POST["role"] != "admin":
                raise InvalidInput("you cannot take the admin role from yourself")
            services.set_role(user, request.POST["role"])
            messages.info(request, f"{user.username} is now {request.POST['role']}")
        if "active" in request.POST:
            if user == request.user:
                raise InvalidInput("you cannot deactivate yourself")
            user.is_active = request.POST["active"] == "1"
            user.save(update_fields=["is_active"])
            state = "activated" if user.is_active else "deactivated"
            messages.info(request, f"{user.username} {state}")
    except InvalidInput as exc:
        messages.error(request, str(exc))
    return redirect("accounts:users")


@role_required("viewer")
def my_token(request):
    """The signed-in user's API token (shown once after it is (re)generated); revocable."""
    token_key = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if tokens.revoke(request.user):
                messages.info(request, "your API token is revoked")
            return redirect("accounts:token")
        token_key = tokens.new_token(request.user).key
    token = Token.objects.filter(user=request.user).first()
    return render(
        request,
        "accounts/token.html",
        {
            "token_key": token_key,
            "has_token": token is not None,
            "expires": tokens.expires_at(token) if token else None,
            "expired": bool(token and tokens.is_expired(token)),
            "role": user_role(request.user),
        },
    )
