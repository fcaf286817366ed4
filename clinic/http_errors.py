"""Errors raised outside a view: the API answers JSON in its own error shape (`code`, `detail`),
the FHIR interface an OperationOutcome, every other address the pages' own words.

Django's handlers (`handler400` ... `handler500` in clinic/urls.py) and the control-character
guard at the door come here, so that a client of the API never has to parse an HTML page.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"
FHIR_PREFIX = "/fhir/"
ADMIN_PREFIX = "/admin/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def is_fhir(request: HttpRequest) -> bool:
    return request.path_info.startswith(FHIR_PREFIX)


def fhir_error(status: int, code: str, diagnostics: str, expression: list[str] | None = None) -> HttpResponse:
    from scheduling.fhir.mapping import issue, operation_outcome
    from scheduling.fhir.rendering import FHIR_JSON, fhir_json

    body = fhir_json(operation_outcome([issue("error", code, diagnostics, expression)]))
    response = HttpResponse(body, status=status, content_type=f"{FHIR_JSON}; charset=utf-8")
    add_never_cache_headers(response)
    return response


def api_error(status: int, code: str, detail: str, errors: dict | None = None) -> JsonResponse:
    body = {"code": code, "detail": detail}
    if errors:
        body["errors"] = errors
    response = JsonResponse(body, status=status)
    add_never_cache_headers(response)
    return response


def control_characters(request: HttpRequest, fields: list[str], *, page: bool = True) -> HttpResponse:
    """A request refused by clinic.untrusted_input: the fields that hold control characters."""
    if is_fhir(request):
        return fhir_error(400, "invalid", "The request holds a control character (such as NUL), which no "
                                          "parameter accepts.", fields or None)
    if is_api(request):
        message = "This value holds a control character (such as NUL): remove it."
        return api_error(400, "invalid", "The request holds a control character (such as NUL), which no field "
                                         "accepts.", {field: [message] for field in fields})
    if not page:
        return HttpResponse("The request holds a control character, which no field accepts.\n",
                            status=400, content_type="text/plain; charset=utf-8")
    from scheduling.pages.errors import problem

    return problem(request, _("The address or form holds characters we cannot read. Please go back and try again, "
                              "or start again from the booking page."), status=400, title=_("Please try again"))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_fhir(request):
        return fhir_error(400, "structure", "The request could not be read.")
    if is_api(request):
        return api_error(400, "bad_request", "The request could not be read.")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_fhir(request):
        return fhir_error(403, "forbidden", "You do not have permission to perform this action.")
    if is_api(request):
        return api_error(403, "permission_denied", "You do not have permission to perform this action.")
    user = getattr(request, "user", None)
    if request.path_info.startswith(ADMIN_PREFIX) and user is not None and user.is_active and user.is_staff:
        # A colleague signed in whose role does not include the page: the admin's own frame,
        # saying so and the way back, rather than a bare "403 Forbidden".
        from django.contrib import admin
        from django.template.response import TemplateResponse

        response = TemplateResponse(request, "admin/403.html", {**admin.site.each_context(request),
                                                                "title": _("No access to this page")}, status=403)
        return response.render()
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_fhir(request):
        return fhir_error(404, "not-found", "No such resource type or operation here; see /fhir/r4/metadata.")
    if is_api(request):
        return api_error(404, "not_found", "Not found.")
    from scheduling.pages.errors import page_not_found as patient_page_not_found

    return patient_page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_fhir(request):
        return fhir_error(500, "exception", "Something went wrong on our side. It has been logged; please try "
                                            "again in a few minutes.")
    if is_api(request):
        return api_error(500, "server_error", "Something went wrong on our side. It has been logged; please try "
                                              "again in a few minutes.")
    # Rendered without context processors (the database may be what failed); the request is
    # passed for the style's CSP nonce alone.
    return HttpResponse(loader.get_template("500.html").render({"request": request}), status=500)
