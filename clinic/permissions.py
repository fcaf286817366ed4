"""Staff permissions read without a query of their own: Django's ModelBackend reads a user's own
permissions and their groups' in two queries, and every API request checks them. The API's token
is read with the permissions in the same statement; elsewhere (the admin) both come in one query."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from clinic import rows


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


def _token_user_sql(user_model, token_model) -> str:
    """The token's user's columns and their permissions ("app.codename", comma-separated, their
    own and their groups'), by the token's key. Written out: the ORM took three times as long to
    build this statement, on every API request, as the database to answer it."""
    quote = connection.ops.quote_name
    users, tokens = quote(user_model._meta.db_table), quote(token_model._meta.db_table)
    user_id = f"{tokens}.{quote(token_model._meta.get_field('user').column)}"
    names = rows.ids_joined("ct.app_label || '.' || p.codename", distinct=True)
    granted = (
        f"SELECT {names} FROM auth_permission p"
        " JOIN django_content_type ct ON ct.id = p.content_type_id"
        f" WHERE p.id IN (SELECT permission_id FROM auth_user_user_permissions WHERE user_id = {user_id}"
        " UNION SELECT gp.permission_id FROM auth_group_permissions gp"
        f" JOIN auth_user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = {user_id})")
    return (f"SELECT {rows.columns(user_model, users)}, ({granted}) FROM {tokens} JOIN {users} "
            f"ON {users}.{quote(user_model._meta.pk.column)} = {user_id} "
            f"WHERE {tokens}.{quote(token_model._meta.get_field('key').column)} = %s")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, reading the user's permissions with the token: one statement."""

    def authenticate_credentials(self, key):
        model, users = self.get_model(), get_user_model()
        found = rows.fetch(_token_user_sql(users, model), [key])
        if not found:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, granted = rows.build(users, found[0][:-1]), found[0][-1]
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if not user.is_superuser:  # a superuser has every permission without asking
            user._perm_cache = {name for name in (granted or "").split(",") if name}
        token = model(key=key, user_id=user.pk)
        model.user.field.set_cached_value(token, user)
        return user, token
