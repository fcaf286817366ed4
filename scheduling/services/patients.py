"""Who is booking on the public pages: a returning patient, or a new record for the front desk."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic.models import BloodThinner, Channel, Patient, ProcedureType
from clinic.models.validators import phone_key
from scheduling.models import BOOKED_STATUSES, Appointment, ReminderStatus
from scheduling.reminders.outbox import (channel_for, reminders_follow_channel, reminders_replan_holds,
                                        reminders_schedule)
from scheduling.webhooks.events import patient_created_event


def patient_for_booking(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    phone: str,
    email: str,
    sms_consent: bool,
    email_consent: bool,
    language: str = "en",
) -> Patient:
    """The patient with this name and date of birth and the same phone or email, else a new
    record flagged for front-desk review.

    The caller shows the same page either way, so the booking pages never reveal whether a
    record exists. A match keeps its stored details; consent given here is added to it (never
    taken away: that is done with the clinic).
    """
    first_name, last_name, email = first_name.strip(), last_name.strip(), email.strip()
    phone_digits = phone_key(phone)
    with transaction.atomic():
        candidates = Patient.objects.select_for_update().filter(
            first_name__iexact=first_name, last_name__iexact=last_name, date_of_birth=date_of_birth)
        for candidate in candidates:
            same_phone = bool(phone_digits) and phone_key(candidate.phone) == phone_digits
            same_email = bool(email) and candidate.email.lower() == email.lower()
            if same_phone or same_email:
                granted = []
                if sms_consent and same_phone and not candidate.sms_consent:
                    candidate.sms_consent = True
                    granted.append("sms_consent")
                if email_consent and same_email and not candidate.email_consent:
                    candidate.email_consent = True
                    granted.append("email_consent")
                if granted:
                    candidate._change_reason = "Consent given on the booking page"
                    candidate.save(update_fields=granted)
                return candidate
        # Texts when they said yes to texts, or gave only a phone; else email.
        preferred = Channel.SMS if phone and (sms_consent or not email) else Channel.EMAIL
        patient = Patient(first_name=first_name, last_name=last_name, date_of_birth=date_of_birth,
                          phone=phone.strip() if isinstance(phone, str) else phone,
                          email=email, sms_consent=sms_consent and bool(phone),
                          email_consent=email_consent and bool(email), preferred_channel=preferred,
                          language=language or "en", needs_review=True)
        patient._change_reason = "Created on the booking page"
        patient.save()
        patient_created_event(patient)
        return patient


def patient_created(*, patient: Patient) -> None:
    """What follows a patient record staff just saved (the admin, the API): the systems
    listening are told. Call it in the transaction that saved the record."""
    patient_created_event(patient)


def patient_reminders_after_consent(*, patient: Patient, now: dt.datetime | None = None) -> int:
    """Plan the reminders of the patient's visits still to come that have none because they were
    booked before any consent to messages was recorded, and move the messages waiting to go
    onto the channel the patient takes now (`reminders_follow_channel`: a STOP with email
    consent, a number removed, the preferred channel changed). Call it in the transaction that
    recorded the change. Returns how many visits got their reminders."""
    if channel_for(patient) is None:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        reminders_follow_channel(patient, now=now)
        visits = (Appointment.objects.select_related("location", "patient", "procedure_type")
                  .filter(patient=patient, status__in=BOOKED_STATUSES, arrival__gt=now)
                  .exclude(reminders__status__in=[ReminderStatus.PENDING, ReminderStatus.SENDING,
                                                  ReminderStatus.SENT])
                  .order_by("arrival"))
        planned = 0
        for visit in visits:
            # Not `booked`: the booking itself is old news; what the visit needs next is planned.
            planned += bool(reminders_schedule(visit, now=now, booked=False))
        return planned


def hold_reminders_replan(*, patient: Patient | None = None, drug: BloodThinner | None = None,
                          procedure_type: ProcedureType | None = None, now: dt.datetime | None = None) -> int:
    """Plan again the blood-thinner hold messages of the visits still to come whose blood-thinner holds may have
    changed: the patient's (their list of blood thinners changed), every patient's on `drug`
    (its row of the hold table changed), or those of `procedure_type` of every patient on a
    blood thinner (its bleeding risk changed). A hold now due on another day is told again with that
    day; one for a drug no longer taken is cancelled; a hold message already sent for the same
    drug and last-dose day is not repeated. Call it in the transaction that saved the change.
    Returns how many visits were planned again."""
    now = now or timezone.now()
    visits = (Appointment.objects.select_related("location", "patient", "procedure_type")
              .filter(status__in=BOOKED_STATUSES, arrival__gt=now).order_by("arrival"))
    if patient is not None:
        visits = visits.filter(patient=patient)
    if drug is not None:
        visits = visits.filter(patient__blood_thinners=drug)
    if procedure_type is not None:
        visits = visits.filter(procedure_type=procedure_type,
                               patient__in=Patient.objects.filter(blood_thinners__isnull=False))
    with transaction.atomic():
        visits = list(visits)
        for visit in visits:
            reminders_replan_holds(visit, now=now)
        return len(visits)


def patient_language_use(*, patient: Patient, language: str) -> bool:
    """The patient chose `language` on their own pages: their messages follow it from now on.
    Whether it changed (a language the clinic does not offer is ignored)."""
    if language not in dict(settings.LANGUAGES) or patient.language == language:
        return False
    patient.language = language
    patient._change_reason = "Language chosen on the patient's pages"
    patient.save(update_fields=["language"])
    return True
