"""`Idempotency-Key` on the POSTs that create (bookings, orders): a client that retries after a
timeout gets the first answer, status and body, instead of a second booking or a 409."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response
from rest_framework.utils import encoders

from scheduling import services
from scheduling.errors import BookingError
from scheduling.models import IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE

HEADER = "Idempotency-Key"
# The schema's pattern without its anchors, matched whole (a "$" would let a final newline through).
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN.removeprefix("^").removesuffix("$"))

PARAMETER = OpenApiParameter(
    HEADER, {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
             "pattern": IDEMPOTENCY_KEY_PATTERN}, OpenApiParameter.HEADER,
    required=False,
    description=f"A key of your choosing (e.g. a UUID), {IDEMPOTENCY_KEY_RULE}. A retry with the same "
                "key and body within 24 hours returns the first answer instead of creating again; the same key "
                "with a different body is refused with 422 `idempotency_key_reused`.")


def request_fingerprint(request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # a form or multipart body: keep every value of a repeated field
        data = dict(data.lists())
    text = json.dumps([request.method, request.path, data], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def answer_once(request, answer: Callable[[], Response]) -> Response:
    """`answer()` the request, or replay the answer given to the first request with its key."""
    key = request.headers.get(HEADER)
    if key is None:
        return answer()
    if not (_KEY.fullmatch(key) and len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH):
        raise BookingError(f"Give an Idempotency-Key of {IDEMPOTENCY_KEY_RULE}.", field=HEADER)
    with transaction.atomic():
        first = services.idempotent_request_claim(by=request.user, key=key,
                                                  fingerprint=request_fingerprint(request))
        if first is not None:
            body = None if first.response_body is None else json.loads(first.response_body)
            return Response(body, status=first.status_code, headers={"Idempotent-Replayed": "true"})
        response = answer()
        # Written as DRF's renderer writes it, so the replay renders the same bytes.
        services.idempotent_request_answered(by=request.user, key=key, status_code=response.status_code,
                                             body=json.dumps(response.data, cls=encoders.JSONEncoder))
        return response
