"""The OpenAPI schema and its browsable docs: for signed-in staff when DEBUG is off, unless
API_DOCS_PUBLIC opens them (it does by default in development).

The schema lists every endpoint and field the clinic's data is read through; it is no secret
from a determined reader, but there is no reason to hand it to every visitor either.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer


class ApiDocsAccess(BasePermission):
    message = "The API schema and docs are for signed-in staff."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return settings.API_DOCS_PUBLIC or bool(user and user.is_authenticated and user.is_staff)


class SchemaView(SpectacularAPIView):
    permission_classes = [ApiDocsAccess]

    def handle_exception(self, exc):
        # Errors in the API's JSON shape, not in the YAML the schema itself is served as.
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from our own static files; its start-up script is a file of its own (no inline
    script for the Content-Security-Policy to allow)."""

    permission_classes = [ApiDocsAccess]
    template_name = "api/docs.html"

    def handle_exception(self, exc):
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed, exceptions.PermissionDenied)) \
                and not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path(), reverse("admin:login"))
        return super().handle_exception(exc)
