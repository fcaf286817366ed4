"""Every API error is JSON with a stable `code`, a `detail` in plain words and, for bad input,
the field `errors`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler

from scheduling.errors import BookingError, NotEligible, SlotHeld

_STATUS_FOR_CODE = {
    "slot_unavailable": status.HTTP_409_CONFLICT,
    "slot_held": status.HTTP_409_CONFLICT,
    "invalid_transition": status.HTTP_409_CONFLICT,
    "not_eligible": status.HTTP_400_BAD_REQUEST,
    "too_soon": status.HTTP_400_BAD_REQUEST,
    "invalid": status.HTTP_400_BAD_REQUEST,
    "idempotency_key_reused": status.HTTP_422_UNPROCESSABLE_ENTITY,
}


def unmet_json(item) -> dict:
    return {"message": item.message, "rule": item.rule_id, "kind": item.kind or None,
            "earliest": item.earliest.isoformat() if item.earliest else None}


def api_exception_handler(exc, context):
    if isinstance(exc, BookingError):
        body = {"code": exc.code, "detail": exc.message}
        if exc.field:
            body["errors"] = {exc.field: [exc.message]}
        if isinstance(exc, NotEligible):
            body["unmet"] = [unmet_json(item) for item in exc.unmet]
        if isinstance(exc, SlotHeld):
            body["held_until"] = exc.until.isoformat()
        return Response(body, status=_STATUS_FOR_CODE.get(exc.code, status.HTTP_400_BAD_REQUEST))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        # A model's own rule (`full_clean` in a service) refused what the serializer let through.
        detail = get_error_detail(exc)
        exc = exceptions.ValidationError(detail if isinstance(detail, dict) else {"non_field_errors": detail})
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handling, logged
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"code": "invalid", "detail": "Check the highlighted fields.", "errors": response.data}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(detail, "code", None) or exc.default_code
        response.data = {"code": code, "detail": str(detail)}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            # DRF has set the Retry-After header; the body says the same for clients that read JSON.
            response.data["retry_after"] = int(response["Retry-After"])
    return response
