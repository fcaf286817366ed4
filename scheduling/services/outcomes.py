"""Recording what a procedure did for the patient's pain."""

from __future__ import annotations

from django.db import transaction

from scheduling.errors import BookingError
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Outcome,
    OutcomeSource,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from scheduling.services.careplan_progress import careplan_outcome_recorded


OUTCOME_RECORDED = "Not sent: the outcome is recorded, the diary is closed."


def _score(value: int, name: str, top: int) -> int:
    if value is None or not 0 <= int(value) <= top:
        raise BookingError(f"Give {name.replace('_', ' ')} from 0 to {top}.", field=name)
    return int(value)


@transaction.atomic
def outcome_record(
    *,
    appointment: Appointment,
    pain_before: int,
    pain_after: int,
    relief_percent: int | None = None,
    relief_duration_hours: int | None = None,
    notes: str = "",
    by=None,
    source: str = OutcomeSource.STAFF,
) -> Outcome:
    """Record (or correct) the outcome of a completed procedure; a care plan the visit belongs
    to moves on by it (scheduling/services/careplan_progress.py).

    Without a relief figure, it is taken from the pain scores: 8 before and 2 after is 75%.
    `source` says where the figures come from: staff's own entry, or the patient's pain diary
    as confirmed by `by` (patient-reported).
    """
    if source not in OutcomeSource.values:
        raise BookingError("Say where the outcome comes from.", field="source")
    if appointment.status != AppointmentStatus.COMPLETED:
        raise BookingError(f"Outcomes are recorded for completed visits; this one is "
                           f"{appointment.get_status_display().lower()}.", code="invalid_transition")
    pain_before, pain_after = _score(pain_before, "pain_before", 10), _score(pain_after, "pain_after", 10)
    if relief_percent is None:
        relief_percent = round(100 * (pain_before - pain_after) / pain_before) if pain_before else 0
        relief_percent = max(relief_percent, 0)
    relief_percent = _score(relief_percent, "relief_percent", 100)
    if relief_duration_hours is not None and int(relief_duration_hours) < 0:
        raise BookingError("Relief cannot last a negative number of hours.", field="relief_duration_hours")
    outcome, _ = Outcome.objects.update_or_create(
        appointment=appointment,
        defaults={"pain_before": pain_before, "pain_after": pain_after, "relief_percent": relief_percent,
                  "relief_duration_hours": relief_duration_hours, "notes": notes, "recorded_by": by,
                  "source": source},
    )
    # The outcome is known: the diary's prompts still to come would ask for nothing.
    Reminder.objects.filter(appointment=appointment, kind=ReminderKind.PAIN_DIARY,
                            status=ReminderStatus.PENDING).update(status=ReminderStatus.CANCELLED,
                                                                  last_error=OUTCOME_RECORDED)
    careplan_outcome_recorded(outcome=outcome, by=by)  # the next step of the patient's care plan is judged by it
    return outcome
