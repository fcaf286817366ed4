"""Response headers beyond Django's own SecurityMiddleware (the Content-Security-Policy comes
from django-csp, configured in settings):

- Permissions-Policy: no page of Interval uses the camera, microphone, location, payments or USB,
  so a script that got in somehow cannot ask for them either;
- Cache-Control: no-store on every API response: they carry patient data, which must not stay
  in a browser's or a proxy's cache.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from clinic.http_errors import is_api


def permissions_policy(features: dict[str, list[str]]) -> str:
    """`{"camera": []}` -> `camera=()`; `{"fullscreen": ["self"]}` -> `fullscreen=(self)`."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in features.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.permissions_policy = permissions_policy(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        if is_api(request):
            add_never_cache_headers(response)
        return response
