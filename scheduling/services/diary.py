"""Writes to a visit's pain diary: the baseline pain, the patient's entries and note, the
procedure's real end. The outcome confirmed from it is recorded by `outcome_record`."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from scheduling.diary.prompts import EARLY, OPEN_FOR, has_diary, is_late, prompt_minutes
from scheduling.errors import BookingError
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    BaselineSource,
    Outcome,
    OutcomeSource,
    PainDiary,
    PainEntry,
)
from scheduling.models.diary import NOTE_MAX_LENGTH


class DiaryClosed(BookingError):
    """The diary takes no more entries: not open yet, closed, or already reviewed."""

    code = "diary_closed"


def _pain(value, field: str = "pain") -> int:
    try:
        pain = int(value)
    except (TypeError, ValueError):
        raise BookingError("Give the pain from 0 to 10.", field=field) from None
    if not 0 <= pain <= 10:
        raise BookingError("Give the pain from 0 to 10.", field=field)
    return pain


def _diary(appointment: Appointment) -> PainDiary:
    diary, _ = PainDiary.objects.select_for_update().get_or_create(appointment=appointment)
    return diary


def diary_reviewed(appointment: Appointment) -> bool:
    """A nurse or physician has confirmed an outcome from the diary: it is closed for changes."""
    return Outcome.objects.filter(appointment=appointment, source=OutcomeSource.PATIENT_DIARY).exists()


def _check_open(appointment: Appointment, diary: PainDiary, now: dt.datetime) -> None:
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        raise DiaryClosed("The visit did not take place.")
    if now < diary.procedure_end:
        raise DiaryClosed("The diary opens at the procedure's end.")
    if now >= diary.procedure_end + OPEN_FOR:
        raise DiaryClosed("The diary is closed: it is open for 24 hours after the procedure.")
    if diary_reviewed(appointment):
        raise DiaryClosed("The diary has been reviewed and its outcome confirmed.")


@transaction.atomic
def diary_baseline_record(*, appointment: Appointment, pain, source: str, now: dt.datetime) -> PainDiary:
    """The patient's pain before the procedure. Staff record it at check-in (and may correct
    it); on the diary page the patient gives it only if the desk did not."""
    pain = _pain(pain, "baseline_pain")
    if not has_diary(appointment.procedure_type):
        raise BookingError("This procedure has no pain diary.", field="baseline_pain")
    diary = _diary(appointment)
    if source == BaselineSource.PAGE:
        _check_open(appointment, diary, now)
        if diary.baseline_source == BaselineSource.CHECK_IN:
            raise DiaryClosed("The pain before the procedure was recorded at check-in.")
    elif source != BaselineSource.CHECK_IN:
        raise BookingError("Unknown source of the baseline pain.")
    diary.baseline_pain, diary.baseline_source, diary.baseline_recorded_at = pain, source, now
    diary.save(update_fields=["baseline_pain", "baseline_source", "baseline_recorded_at"])
    return diary


@transaction.atomic
def diary_entry_record(*, appointment: Appointment, pain, prompt: int | None, now: dt.datetime) -> PainEntry:
    """The patient's pain at one prompt time (answered again, it is corrected), or with no
    prompt, their pain now. An answer given well after its prompt is marked late."""
    pain = _pain(pain)
    diary = _diary(appointment)
    _check_open(appointment, diary, now)
    if prompt is None:
        return PainEntry.objects.create(diary=diary, pain=pain, prompt_minutes=None, recorded_at=now)
    if prompt not in prompt_minutes(appointment.procedure_type):
        raise BookingError("The diary has no such question.", field="prompt")
    prompt_at = diary.procedure_end + dt.timedelta(minutes=prompt)
    if now < prompt_at - EARLY:
        raise DiaryClosed("That question is not open yet.", field="prompt")
    entry, _ = PainEntry.objects.update_or_create(
        diary=diary, prompt_minutes=prompt,
        defaults={"pain": pain, "recorded_at": now, "late": is_late(prompt_at, now)})
    return entry


@transaction.atomic
def diary_note_record(*, appointment: Appointment, note: str, now: dt.datetime) -> PainDiary:
    # A browser sends a line break as CR LF; the box counts it as one character, and so do we.
    note = (note or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise BookingError(f"Keep the note under {NOTE_MAX_LENGTH} characters.", field="note")
    diary = _diary(appointment)
    _check_open(appointment, diary, now)
    diary.note, diary.note_recorded_at = note, now
    diary.save(update_fields=["note", "note_recorded_at"])
    return diary


def diary_procedure_ended(*, appointment: Appointment, at: dt.datetime) -> PainDiary | None:
    """Record when the procedure really ended, for a procedure with a diary (its prompts and
    its page count from then). Called in the transaction that moves the visit on."""
    if not has_diary(appointment.procedure_type):
        return None
    diary = _diary(appointment)
    diary.procedure_ended_at = at
    diary.save(update_fields=["procedure_ended_at"])
    return diary
