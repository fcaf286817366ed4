"""The OpenAPI schema says what the API really answers: every operation lists its error
responses with the one JSON error body of `errors.py`, so a client can rely on the schema alone.

Which errors an operation can give follows from what it is (a path with an id can 404, a
paginated list can 404 on a page past the end, anything that reads input can 400); a view adds
the rest per action in `error_statuses` (409 where a booking can collide, 422 for a reused
Idempotency-Key).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "The input was refused: `invalid` with the field `errors` (also for text holding control "
         "characters), or `not_eligible` with the `unmet` rules when an order or a pathway rule refuses "
         "the booking.",
    401: "No valid credentials: `not_authenticated` or `authentication_failed`.",
    403: "The role does not allow this: `permission_denied`.",
    404: "`not_found`: no such record, or a page past the end of the list.",
    409: "`slot_unavailable` (a physician, room, recovery bay or the patient is taken at that time) or "
         "`invalid_transition` (the visit's status does not allow this step).",
    415: "`unsupported_media_type`: send JSON.",
    422: "`idempotency_key_reused`: this Idempotency-Key was used for a different request.",
    429: "`throttled`: too many requests; retry after the number of seconds in `Retry-After`.",
}


class UnmetRuleSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="The rule in words, for staff.")
    rule = serializers.CharField(help_text="The rule's stable id.")
    kind = serializers.CharField(allow_null=True)
    earliest = serializers.DateTimeField(allow_null=True, help_text="When the rule would allow the booking, if known.")


class ErrorSerializer(serializers.Serializer):
    """Every API error: a stable `code`, a `detail` in plain words, and for bad input the fields'
    messages in `errors`."""

    code = serializers.CharField(help_text="Stable: invalid, not_eligible, slot_unavailable, slot_held, "
                                           "invalid_transition, checks_missing, not_found, not_authenticated, "
                                           "authentication_failed, permission_denied, two_factor_required, "
                                           "throttled, idempotency_key_reused, ...")
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.JSONField(), required=False,
                                   help_text="Messages per field name (a list of strings, or nested for lists).")
    unmet = UnmetRuleSerializer(many=True, required=False, help_text="With `not_eligible`: each unmet rule.")
    held_until = serializers.DateTimeField(required=False, help_text="With `slot_held`: when the hold on the "
                                                                     "time lapses.")
    retry_after = serializers.IntegerField(required=False, min_value=0,
                                           help_text="With `throttled`: seconds to wait, as in `Retry-After`.")


RETRY_AFTER = OpenApiParameter("Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429],
                               description="Seconds to wait before retrying.")


class IntervalAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses every operation can give."""

    def get_override_parameters(self):
        return [*super().get_override_parameters(), RETRY_AFTER]

    def error_statuses(self) -> set[int]:
        # Any request can be refused as bad input (a control character anywhere in it) or
        # throttled; a path with an id or a page number can name nothing.
        statuses = {400, 429}
        if getattr(self.view, "permission_classes", None):
            statuses |= {401, 403}
        if "{" in self.path or self._is_list_view():
            statuses.add(404)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.add(415)
        extra = getattr(self.view, "error_statuses", {})
        statuses |= set(extra.get(getattr(self.view, "action", None), ()))
        return statuses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.PrimaryKeyRelatedField) and schema.get("type") == "integer":
            schema["minimum"] = 1  # record ids start at 1
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status_code in sorted(self.error_statuses()):
            if str(status_code) not in responses:
                responses[str(status_code)] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status_code]), str(status_code))
        return responses


def ids_start_at_one(result, generator, request, public):
    """Postprocessing hook: every record id in a path is a positive integer."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    schema["minimum"] = 1
    return result
