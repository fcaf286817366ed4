"""A booking made by a patient on the public pages: who they are, then the visit, together."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from scheduling.errors import SlotUnavailable
from scheduling.locks import lock_booking, visit_days
from scheduling.models import ACTIVE_STATUSES, Appointment, SlotHold
from scheduling.services.booking import appointment_book
from scheduling.services.patients import patient_for_booking

TWIN_MINUTES = 5


def online_booking_make(*, hold: SlotHold, first_name: str, last_name: str, date_of_birth: dt.date, phone: str,
                        email: str, sms_consent: bool, email_consent: bool, language: str, note: str = ""
                        ) -> Appointment:
    """Match or create the patient and book the held time, in one transaction: a refused
    booking leaves no new patient record behind.

    The held time's days are locked first, so a form sent twice at once is handled one after the other;
    the second finds its hold used by the first and gets the first's visit back, not an error.
    """
    with transaction.atomic():
        lock_booking(days=visit_days(hold.location, min(hold.procedure_start, hold.room_start),
                                     max(hold.discharge, hold.room_end)))
        patient = patient_for_booking(first_name=first_name, last_name=last_name, date_of_birth=date_of_birth,
                                      phone=phone, email=email, sms_consent=sms_consent,
                                      email_consent=email_consent, language=language)
        try:
            with transaction.atomic():
                return appointment_book(patient=patient, procedure_type=hold.procedure_type,
                                        physician=hold.physician, start=hold.procedure_start, hold_key=hold.key,
                                        by_patient=True,
                                        notes=f"Patient's note: {note}" if note.strip() else "")
        except SlotUnavailable:
            twin = _booked_with_this_hold(hold, patient)
            if twin is None:
                raise
            return twin


def _booked_with_this_hold(hold: SlotHold, patient) -> Appointment | None:
    """The visit this very hold was just booked into by the same form sent a moment earlier: the
    hold is gone (a booking releases it) and the visit is the patient's, at its time, new."""
    if SlotHold.objects.filter(pk=hold.pk).exists() or patient.pk is None:
        return None
    return Appointment.objects.filter(
        patient=patient, physician=hold.physician, procedure_type=hold.procedure_type,
        procedure_start=hold.procedure_start, status__in=ACTIVE_STATUSES, booked_by__isnull=True,
        created_at__gte=timezone.now() - dt.timedelta(minutes=TWIN_MINUTES),
    ).first()
