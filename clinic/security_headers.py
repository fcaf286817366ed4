"""Response headers beyond Django's own SecurityMiddleware (the Content-Security-Policy comes
from django-csp, configured in settings):

- Permissions-Policy: no page of Interval uses the camera, microphone, location, payments or USB,
  so a script that got in somehow cannot ask for them either;
- Cache-Control: no-store on every API and FHIR response: they carry patient data, which must
  not stay in a browser's or a proxy's cache. The FHIR CapabilityStatement (`metadata`), public
  and the same for everyone, is the one exception.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from clinic.http_errors import FHIR_PREFIX, is_api, is_fhir


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
        if carries_patient_data(request):
            add_never_cache_headers(response)
        return response


def carries_patient_data(request: HttpRequest) -> bool:
    return is_api(request) or (is_fhir(request) and request.path_info != f"{FHIR_PREFIX}r4/metadata")
