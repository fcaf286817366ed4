"""Every FHIR error is an OperationOutcome with the HTTP status that fits (400 bad input, 401,
403, 404 unknown id, 409 taken, 422 refused by a rule), never a page or a stack trace.

The booking errors of scheduling/errors.py are mapped here once, as api/errors.py maps them
for the REST API: their words are the service's own.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from scheduling.errors import BookingError, NotEligible, SlotHeld
from scheduling.fhir.mapping import issue, operation_outcome

# (HTTP status, OperationOutcome issue code) for each booking error code.
_FOR_CODE = {
    "slot_unavailable": (status.HTTP_409_CONFLICT, "conflict"),
    "slot_held": (status.HTTP_409_CONFLICT, "conflict"),
    "invalid_transition": (status.HTTP_409_CONFLICT, "business-rule"),
    "checks_missing": (status.HTTP_409_CONFLICT, "business-rule"),
    "not_eligible": (status.HTTP_422_UNPROCESSABLE_ENTITY, "business-rule"),
    "too_soon": (status.HTTP_422_UNPROCESSABLE_ENTITY, "business-rule"),
    "idempotency_key_reused": (status.HTTP_422_UNPROCESSABLE_ENTITY, "business-rule"),
    "invalid": (status.HTTP_400_BAD_REQUEST, "invalid"),
}

# DRF's errors outside the booking's own: (HTTP status is the exception's) issue code.
_FOR_DRF = [
    (exceptions.NotAuthenticated, "login"),
    (exceptions.AuthenticationFailed, "login"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not-found"),
    (exceptions.MethodNotAllowed, "not-supported"),
    (exceptions.UnsupportedMediaType, "not-supported"),
    (exceptions.NotAcceptable, "not-supported"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ParseError, "structure"),
    (exceptions.ValidationError, "invalid"),
]


class FhirError(Exception):
    """Bad input to the FHIR interface: a parameter that cannot be read, an unknown id."""

    def __init__(self, message: str, *, status_code: int = status.HTTP_400_BAD_REQUEST, code: str = "invalid",
                 expression: str | None = None):
        super().__init__(message)
        self.message, self.status_code, self.code, self.expression = message, status_code, code, expression


def not_found(kind: str, id_: str) -> FhirError:
    return FhirError(f"{kind}/{id_[:64]} is not known.", status_code=status.HTTP_404_NOT_FOUND, code="not-found")


def outcome_response(status_code: int, issues: list[dict], headers: dict | None = None) -> Response:
    return Response(operation_outcome(issues), status=status_code, headers=headers)


def booking_error_issues(error: BookingError) -> list[dict]:
    _, code = _FOR_CODE.get(error.code, (None, "invalid"))
    expression = [error.field] if error.field else None
    if isinstance(error, NotEligible) and error.unmet:
        # Each unmet rule is its own issue, in the rule's own words.
        return [issue("error", code, item.message, [f"rule:{item.rule_id}"] if item.rule_id else None)
                for item in error.unmet]
    if isinstance(error, SlotHeld):
        return [issue("error", code, error.message, expression),
                issue("information", "informational", f"Held until {error.until.isoformat()}.")]
    return [issue("error", code, error.message, expression)]


def fhir_exception_handler(exc, context):
    """DRF's exception handler for the FHIR views (`FhirView.get_exception_handler`)."""
    if isinstance(exc, FhirError):
        return outcome_response(exc.status_code, [issue("error", exc.code, exc.message,
                                                        [exc.expression] if exc.expression else None)])
    if isinstance(exc, BookingError):
        status_code, _ = _FOR_CODE.get(exc.code, (status.HTTP_400_BAD_REQUEST, "invalid"))
        return outcome_response(status_code, booking_error_issues(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # an unexpected error: Django's 500 handling, logged (an OperationOutcome, see http_errors)
    code = next((code for kind, code in _FOR_DRF if isinstance(exc, kind)), "processing")
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        detail = "; ".join(f"{name}: {' '.join(map(str, messages))}" for name, messages in detail.items()) \
            if isinstance(detail, dict) else " ".join(map(str, detail))
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait))
    return outcome_response(exc.status_code, [issue("error", code, str(detail))], headers)
