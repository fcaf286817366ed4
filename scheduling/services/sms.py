"""What the SMS provider tells us: how a text fared, and what a patient texted back.

A reply of STOP (or STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) withdraws the patient's consent to
texts, and START (YES, UNSTOP) gives it back: the carriers' standard keywords (CTIA), which
Twilio also acts on for its own part. Consent changes like any other: in the patient's history,
with the reason and the number it came from. A number several patients share (a family phone)
speaks for all of them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.models import Location, Patient
from scheduling.models import (
    BOOKED_STATUSES,
    FINAL_TEXT_DELIVERY_STATUSES,
    Appointment,
    TextDeliveryStatus,
    Reminder,
)
from scheduling.services.patients import patient_reminders_after_consent

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})


class Keyword:
    STOP = "stop"
    START = "start"
    HELP = "help"
    OTHER = "other"


def keyword_of(text: str) -> str:
    """The keyword a reply is, read as carriers do: the whole message, any case, with the
    punctuation people add ("Stop.", " STOP!") ignored."""
    word = "".join(character for character in text.strip().upper() if character.isalnum())
    if word in STOP_WORDS:
        return Keyword.STOP
    if word in START_WORDS:
        return Keyword.START
    if word in HELP_WORDS:
        return Keyword.HELP
    return Keyword.OTHER


@dataclasses.dataclass(frozen=True)
class ReplyOutcome:
    keyword: str
    patients: list[Patient]
    changed: list[Patient]
    clinic: Location | None


def _word(body: str) -> str:
    """The keyword as the patient meant it, for the history: "Stop." is recorded as STOP."""
    return "".join(character for character in body.strip()[:20] if character.isalnum()).upper()


def sms_reply_receive(*, from_number: str, body: str, now: dt.datetime | None = None) -> ReplyOutcome:
    """Act on a patient's reply from `from_number` (E.164): consent off for STOP, on for START.
    After a STOP the texts waiting to go are sent by email when the patient agreed to it, and
    otherwise not at all: dispatch checks consent right before each message
    (scheduling/reminders/dispatch.py). After a START the visits to come are reminded by text."""
    keyword = keyword_of(body)
    now = now or timezone.now()
    with transaction.atomic():
        patients = list(Patient.objects.select_for_update().filter(phone=from_number).order_by("pk"))
        changed = []
        if keyword in (Keyword.STOP, Keyword.START):
            wanted = keyword == Keyword.START
            for patient in patients:
                if patient.sms_consent == wanted:
                    continue
                patient.sms_consent = wanted
                verb = "given" if wanted else "withdrawn"
                patient._change_reason = (f"Consent to text messages {verb}: {_word(body)} "
                                          f"texted from {from_number}")
                patient.save(update_fields=["sms_consent"])
                changed.append(patient)
        for patient in changed:  # the waiting messages follow: to email after a STOP, back to texts after a START
            patient_reminders_after_consent(patient=patient, now=now)
        return ReplyOutcome(keyword=keyword, patients=patients, changed=changed,
                            clinic=_clinic_for(patients, now=now))


def _clinic_for(patients: list[Patient], *, now: dt.datetime) -> Location | None:
    """The site whose name and phone a reply gives: the patient's next visit's, else their
    last one's, else the first active site."""
    visits = Appointment.objects.filter(patient__in=patients).select_related("location")
    visit = (visits.filter(status__in=BOOKED_STATUSES, arrival__gt=now).order_by("arrival").first()
             or visits.order_by("-arrival").first())
    if visit is not None:
        return visit.location
    return Location.objects.filter(is_active=True).order_by("pk").first()


def sms_delivery_report(*, message_id: str, reminder_key: str, status: str, error_code: str,
                        now: dt.datetime | None = None) -> Reminder | None:
    """Record what the provider reports about a text: delivered, undelivered or failed (with
    the carrier's error code), or an earlier step. Returns the reminder, or None when the report
    is about no text of ours or a status not tracked (ignored).

    Reports can arrive out of order ("sent" after "delivered"); a final one is never undone."""
    if status not in TextDeliveryStatus.values:
        return None
    found = Q(provider_message_id=message_id) if message_id else Q(pk__in=[])
    if reminder_key:
        found |= Q(idempotency_key=reminder_key)
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().filter(found).order_by("pk").first()
        if reminder is None:
            return None
        if reminder.provider_message_id and message_id and reminder.provider_message_id != message_id:
            # The reminder went out again (at least once: a lease ran out mid-send), and the
            # report is about the earlier message: the row follows the last one.
            return reminder
        if reminder.delivery_status in FINAL_TEXT_DELIVERY_STATUSES and status not in FINAL_TEXT_DELIVERY_STATUSES:
            return reminder
        reminder.delivery_status = status
        reminder.delivery_error_code = error_code if status in (TextDeliveryStatus.UNDELIVERED,
                                                                TextDeliveryStatus.FAILED) else ""
        reminder.delivery_reported_at = now or timezone.now()
        if message_id:
            reminder.provider_message_id = message_id
        reminder.save(update_fields=["delivery_status", "delivery_error_code", "delivery_reported_at",
                                     "provider_message_id"])
        return reminder
