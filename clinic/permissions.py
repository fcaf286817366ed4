"""Staff permissions read without a query of their own: Django's ModelBackend reads a user's own
permissions and their groups' in two queries, and every API request checks them. The API's token
is read with the permissions in the same statement; elsewhere (the admin) both come in one query."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions


class PermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            granted = Permission.objects.all() if user_obj.is_superuser else Permission.objects.filter(
                Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in
                                    granted.order_by().values_list("content_type__app_label", "codename").distinct()}
        return user_obj._perm_cache


def _granted_to_token_user() -> RawSQL:
    """The token's user's permissions ("app.codename", comma-separated), their own and their
    groups', as a column of the token's row."""
    joined = "STRING_AGG(DISTINCT {}, ',')" if connection.vendor == "postgresql" else "GROUP_CONCAT(DISTINCT {})"
    return RawSQL(
        "SELECT " + joined.format("ct.app_label || '.' || p.codename") + " FROM auth_permission p"
        " JOIN django_content_type ct ON ct.id = p.content_type_id"
        " WHERE p.id IN (SELECT permission_id FROM auth_user_user_permissions WHERE user_id = authtoken_token.user_id"
        " UNION SELECT gp.permission_id FROM auth_group_permissions gp"
        " JOIN auth_user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = authtoken_token.user_id)", [])


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, reading the user's permissions with the token: one statement."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related("user").annotate(granted=_granted_to_token_user()).get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if not token.user.is_superuser:  # a superuser has every permission without asking
            token.user._perm_cache = {name for name in (token.granted or "").split(",") if name}
        return token.user, token
