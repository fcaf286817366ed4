"""What can go wrong when booking, in words the front desk understands.

Each error carries a stable `code` that the API returns: `invalid` (bad input, with the
field), `slot_unavailable` (a resource is taken), `slot_held` (free but held for a booking in
progress: a patient on the booking pages, or a FHIR client's $hold), `not_eligible` (an order or rule refuses),
`too_soon` (a patient booking for themselves inside the minimum notice, or before the first day
their preparation allows), `invalid_transition` (the visit's status does not allow it).
"""

from __future__ import annotations


class BookingError(Exception):
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class SlotUnavailable(BookingError):
    code = "slot_unavailable"


class SlotHeld(SlotUnavailable):
    """The time is free but held for a booking in progress (a patient booking online, a FHIR
    client's $hold): it opens again when `until` passes unless it is booked. Staff are told so,
    not that the physician is busy."""

    code = "slot_held"

    def __init__(self, message: str, *, until, **kwargs):
        super().__init__(message, **kwargs)
        self.until = until


class NotEligible(BookingError):
    """An order or a pathway rule refuses the booking; `unmet` lists each reason."""

    code = "not_eligible"

    def __init__(self, message: str, *, unmet: list | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.unmet = unmet or []


class TooSoon(BookingError):
    """A patient booking for themselves asked for a time inside the location's minimum notice, or
    a day before their preparation (a procedure's day of notice, blood-thinner holds) allows.
    Staff may book such times (README, "Minimum notice")."""

    code = "too_soon"


class InvalidTransition(BookingError):
    code = "invalid_transition"


class ChecksMissing(BookingError):
    """A procedure would start while pre-procedure checks are not confirmed, and no reason was given."""

    code = "checks_missing"


class IdempotencyKeyReused(BookingError):
    """An `Idempotency-Key` sent again with a different request: the client reused a key."""

    code = "idempotency_key_reused"


class DeliveryOvertaken(InvalidTransition):
    """A given-up webhook delivery retried after a later event about the same visit (or plan, or
    patient) already reached that endpoint: sent now, the older event would arrive out of order."""

    code = "delivery_overtaken"
