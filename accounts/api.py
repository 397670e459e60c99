"""REST API of user accounts, for admins only (as the Users page): list, create, change the
role, (de)activate. Passwords are write-only; an admin cannot demote or deactivate themself."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from atp_core.errors import InvalidInput
from atp_site.api_fields import AllowedChoiceField, StrictBooleanField, StrictCharField
from atp_site.permissions import ROLES, RolePermission, user_role

from . import services, tokens


class AdminOnly(RolePermission):
    read_role = "admin"
    write_role = "admin"


class UserSerializer(serializers.ModelSerializer):
    username = StrictCharField(max_length=150)
    email = StrictCharField(required=False, allow_blank=True, max_length=254)
    password = StrictCharField(
        write_only=True,
        required=False,
        style={"input_type": "password"},
        help_text="required when creating a user",
    )
    role = AllowedChoiceField(choices=ROLES, required=False)
    is_active = StrictBooleanField(required=False)

    class Meta:
        model = get_user_model()
        fields = [
            "id",
            "username",
            "email",
            "password",
            "role",
            "is_active",
            "last_login",
            "date_joined",
        ]
        read_only_fields = ["last_login", "date_joined"]

    def to_representation(self, user):
        data = super().to_representation(user)
        data["role"] = user_role(user)
        return data

    def validate(self, attrs):
        request = self.context["request"]
        if self.instance is None:
            if not attrs.get("password"):
                raise serializers.ValidationError({"password": "required for a new user"})
        else:
            if "username" in attrs and attrs["username"] != self.instance.username:
                raise serializers.ValidationError({"username": "cannot be changed"})
            if self.instance == request.user:
                if attrs.get("role", "admin") != "admin":
                    raise serializers.ValidationError(
                        {"role": "you cannot take the admin role from yourself"}
                    )
                if attrs.get("is_active") is False:
                    raise serializers.ValidationError(
                        {"is_active": "you cannot deactivate yourself"}
                    )
        return attrs

    def create(self, validated):
        try:
            return services.create_user(
                validated["username"],
                validated["password"],
                validated.get("role", "viewer"),
                validated.get("email", ""),
            )
        except InvalidInput as exc:
            field = "password" if str(exc).startswith("password") else "username"
            raise serializers.ValidationError({field: str(exc)}) from None

    def update(self, user, validated):
        if "role" in validated:
            services.set_role(user, validated["role"])
        if "email" in validated:
            user.email = validated["email"]
        if "is_active" in validated:
            user.is_active = validated["is_active"]
        if validated.get("password"):
            user.set_password(validated["password"])
        user.save()
        return user


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Accounts and their roles (admin only). Deactivate with ``PATCH {is_active: false}``."""

    serializer_class = UserSerializer
    permission_classes = [AdminOnly]
    lookup_field = "username"

    def get_queryset(self):
        return services.users_with_roles()

    @action(detail=True, methods=["delete"], url_path="token")
    def token(self, request, username=None):
        """Revoke this user's API token (204; 404 when they have none)."""
        if not tokens.revoke(self.get_object()):
            return Response({"detail": f"{username} has no API token"}, status=404)
        return Response(status=204)
