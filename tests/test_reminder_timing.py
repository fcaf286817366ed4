"""Reminders timed from what happened: the pain diary from the real discharge, a blood-thinner
hold whose time passed before the booking."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import BloodThinner, Patient, ProcedureType
from scheduling import services
from scheduling.models import ReminderStatus
from scheduling.reminders import dispatch
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db


def patient_by(channel: str) -> Patient:
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel=channel).order_by("pk").first()
    patient.blood_thinners.clear()
    return patient


def book(calendar, patient, start, code="MBB_LUMBAR", **kwargs):
    procedure_type = ProcedureType.objects.get(code=code)
    calendar.order_for(patient, procedure_type)
    return services.appointment_book(patient=patient, procedure_type=procedure_type, physician=calendar.okafor,
                                     start=start, **kwargs)


def walk_to_recovery(appointment):
    services.appointment_check_in(appointment=appointment)
    services.appointment_start(appointment=appointment)
    services.appointment_move_to_recovery(appointment=appointment)


def diary(appointment) -> list:
    return list(appointment.reminders.filter(kind="pain_diary", status=ReminderStatus.PENDING).order_by("due_at"))


# ---- Pain diary ------------------------------------------------------------------------------

def test_pain_diary_prompts_are_timed_from_when_the_visit_was_completed(calendar, clock):
    block = book(calendar, patient_by("email"), local(NEXT_MONDAY, 9))
    assert block.discharge == local(NEXT_MONDAY, 9, 50)
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    walk_to_recovery(block)
    clock.move_to(local(NEXT_MONDAY, 10, 25))  # the nurse discharges the patient 35 minutes late
    services.appointment_complete(appointment=block)
    assert [r.due_at for r in diary(block)] == [local(NEXT_MONDAY, 11, 25), local(NEXT_MONDAY, 13, 25),
                                                local(NEXT_MONDAY, 16, 25)]
    assert block.reminders.filter(kind="pain_diary", status=ReminderStatus.CANCELLED).count() == 3


def test_a_pain_diary_prompt_already_sent_is_not_sent_again(calendar, clock):
    block = book(calendar, patient_by("email"), local(NEXT_MONDAY, 9))
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    walk_to_recovery(block)
    clock.move_to(local(NEXT_MONDAY, 10, 55))  # the first prompt (10:50) went out before discharge
    dispatch.dispatch_due(now=local(NEXT_MONDAY, 10, 55))
    assert block.reminders.filter(kind="pain_diary", status=ReminderStatus.SENT).count() == 1
    services.appointment_complete(appointment=block)
    assert [r.due_at for r in diary(block)] == [local(NEXT_MONDAY, 13, 55), local(NEXT_MONDAY, 16, 55)]


def test_completing_a_visit_without_a_diary_leaves_its_reminders_alone(calendar, clock):
    esi = book(calendar, patient_by("email"), local(NEXT_MONDAY, 9), code="ESI_IL")
    before = list(esi.reminders.filter(status=ReminderStatus.PENDING).values_list("kind", "due_at"))
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    walk_to_recovery(esi)
    services.appointment_complete(appointment=esi)
    after = list(esi.reminders.filter(status=ReminderStatus.PENDING).values_list("kind", "due_at"))
    assert after == before
