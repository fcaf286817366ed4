from scheduling.models.appointments import (
    ACTIVE_STATUSES,
    BEFORE_PROCEDURE_STATUSES,
    BOOKED_STATUSES,
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
)
from scheduling.models.orders import (
    AuthorizationStatus,
    Laterality,
    OrderStatus,
    Priority,
    ProcedureOrder,
    Region,
)
from scheduling.models.checks import CheckKind, PreProcedureCheck
from scheduling.models.holds import SlotHold
from scheduling.models.idempotency import IDEMPOTENCY_KEY_LIFETIME, IdempotentRequest
from scheduling.models.pathways import EligibilityOverride, Outcome, OutcomeSource, PathwayRule, RuleKind
from scheduling.models.diary import BaselineSource, PainDiary, PainEntry
from scheduling.models.reminders import (
    Anchor,
    AttemptOutcome,
    Reminder,
    ReminderAttempt,
    ReminderKind,
    ReminderStatus,
    ReminderStep,
)
from scheduling.models.waitlist import OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistStatus

__all__ = [
    "BaselineSource",
    "OutcomeSource",
    "PainDiary",
    "PainEntry",
    "CheckKind",
    "PreProcedureCheck",
    "IDEMPOTENCY_KEY_LIFETIME",
    "IdempotentRequest",
    "OfferStatus",
    "SlotHold",
    "WaitlistEntry",
    "WaitlistOffer",
    "WaitlistStatus",
    "ACTIVE_STATUSES",
    "BOOKED_STATUSES",
    "BEFORE_PROCEDURE_STATUSES",
    "Anchor",
    "AttemptOutcome",
    "Reminder",
    "ReminderAttempt",
    "ReminderKind",
    "ReminderStatus",
    "ReminderStep",
    "HOLDING_STATUSES",
    "Appointment",
    "AppointmentStatus",
    "AuthorizationStatus",
    "EligibilityOverride",
    "Laterality",
    "OrderStatus",
    "Outcome",
    "PathwayRule",
    "Priority",
    "ProcedureOrder",
    "Region",
    "RuleKind",
]
