"""Permissions per role: each API action names the Django permission it needs, so the roles
table in clinic/roles.py governs the API exactly as it governs the admin."""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class ActionPermission(BasePermission):
    """The view declares `required_permissions = {action: "app.codename", ...}`; "*" is the default."""

    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        required = getattr(view, "required_permissions", {})
        permission = required.get(getattr(view, "action", None), required.get("*"))
        return permission is None or user.has_perm(permission)
