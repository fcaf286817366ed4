"""Reminders timed from what happened: the pain diary from the real discharge, a blood-thinner
hold whose time passed before the booking."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from clinic.models import BloodThinner, Patient, ProcedureType
from scheduling import services
from scheduling.models import ReminderStatus
from scheduling.pathways.holds import holds_told_too_late
from scheduling.reminders import dispatch
from scheduling.reminders.messages import render
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


def walk_to_procedure(appointment):
    services.appointment_check_in(appointment=appointment)
    services.appointment_start(appointment=appointment, reason="Checks recorded on paper")


def walk_to_recovery(appointment):
    walk_to_procedure(appointment)
    services.appointment_move_to_recovery(appointment=appointment)


def diary(appointment) -> list:
    return list(appointment.reminders.filter(kind="pain_diary", status=ReminderStatus.PENDING).order_by("due_at"))


def after(instant, *minutes):
    return [instant + dt.timedelta(minutes=m) for m in minutes]


# ---- Pain diary ------------------------------------------------------------------------------

def test_pain_diary_prompts_are_timed_from_when_the_procedure_really_ended(calendar, clock):
    block = book(calendar, patient_by("email"), local(NEXT_MONDAY, 9))
    assert block.procedure_end == local(NEXT_MONDAY, 9, 20)
    assert [r.due_at for r in diary(block)] == after(block.procedure_end, 30, 60, 120, 180, 240, 300, 360)
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    walk_to_procedure(block)
    clock.move_to(local(NEXT_MONDAY, 9, 45))  # the procedure ends 25 minutes late
    services.appointment_move_to_recovery(appointment=block)
    ended = local(NEXT_MONDAY, 9, 45)
    assert [r.due_at for r in diary(block)] == after(ended, 30, 60, 120, 180, 240, 300, 360)
    assert block.reminders.filter(kind="pain_diary", status=ReminderStatus.CANCELLED).count() == 7
    clock.move_to(local(NEXT_MONDAY, 10, 25))  # discharged late: the prompts still count from the end
    services.appointment_complete(appointment=block)
    assert [r.due_at for r in diary(block)] == after(ended, 30, 60, 120, 180, 240, 300, 360)


def test_a_procedure_completed_without_recovery_ends_when_completed(calendar, clock):
    block = book(calendar, patient_by("email"), local(NEXT_MONDAY, 9))
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    walk_to_procedure(block)
    clock.move_to(local(NEXT_MONDAY, 9, 30))
    services.appointment_complete(appointment=block)
    assert [r.due_at for r in diary(block)] == after(local(NEXT_MONDAY, 9, 30), 30, 60, 120, 180, 240, 300, 360)


def test_a_pain_diary_prompt_already_sent_is_not_sent_again(calendar, clock):
    block = book(calendar, patient_by("email"), local(NEXT_MONDAY, 9))
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    walk_to_procedure(block)
    clock.move_to(local(NEXT_MONDAY, 9, 55))  # the first prompt (09:50) went out before the procedure ended
    dispatch.dispatch_due(now=local(NEXT_MONDAY, 9, 55))
    assert block.reminders.filter(kind="pain_diary", status=ReminderStatus.SENT).count() == 1
    services.appointment_move_to_recovery(appointment=block)
    assert [r.due_at for r in diary(block)] == after(local(NEXT_MONDAY, 9, 55), 60, 120, 180, 240, 300, 360)


def test_completing_a_visit_without_a_diary_leaves_its_reminders_alone(calendar, clock):
    esi = book(calendar, patient_by("email"), local(NEXT_MONDAY, 9), code="ESI_IL")
    before = list(esi.reminders.filter(status=ReminderStatus.PENDING).values_list("kind", "due_at"))
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    walk_to_recovery(esi)
    services.appointment_complete(appointment=esi)
    after = list(esi.reminders.filter(status=ReminderStatus.PENDING).values_list("kind", "due_at"))
    assert after == before


# ---- Blood-thinner hold booked late -------------------------------------------------------------

def on_warfarin(channel="email") -> Patient:
    patient = patient_by(channel)
    patient.blood_thinners.set([BloodThinner.objects.get(name="Warfarin")])
    return patient


def hold_reminders(appointment) -> list:
    return list(appointment.reminders.filter(kind="blood_thinner_hold").exclude(status=ReminderStatus.CANCELLED))


def test_a_hold_booked_after_the_last_dose_days_reminder_time_goes_out_at_once(calendar, clock):
    # Monday's injection: no warfarin from Wednesday 25th, so the last dose is today, the 24th,
    # whose reminder (09:00) has passed when the front desk books at 10:00.
    clock.move_to(local(dt.date(2026, 11, 24), 10))
    visit = book(calendar, on_warfarin(), local(NEXT_MONDAY, 9), code="ESI_IL")
    (hold,) = hold_reminders(visit)
    assert hold.due_at == local(dt.date(2026, 11, 24), 10) and hold.context["last_dose"] == "2026-11-24"
    body = render(hold).body
    assert "today, Tuesday November 24, is the last day to take your blood thinner" in body
    assert holds_told_too_late(visit) == []  # told on the last-dose day: still in time


def test_a_hold_booked_after_the_last_dose_day_is_sent_at_once_and_flagged_for_staff(client, calendar, clock,
                                                                                    front_desk):
    clock.move_to(local(dt.date(2026, 11, 25), 15))
    visit = book(calendar, on_warfarin("sms"), local(NEXT_MONDAY, 9), code="ESI_IL")
    (hold,) = hold_reminders(visit)
    assert hold.due_at == local(dt.date(2026, 11, 25), 15)
    body = render(hold).body
    assert "the last day to take your blood thinner was Tuesday November 24" in body and "call us" in body
    assert "today" not in body
    assert [late.drug for late in holds_told_too_late(visit)] == ["Warfarin"]
    client.force_login(front_desk)
    page = client.get(f"/admin/scheduling/appointment/{visit.pk}/change/").content.decode()
    assert 'class="warning"' in page and "Blood-thinner hold too late" in page and "Tue 2026-11-24" in page
    api = APIClient()
    api.force_authenticate(front_desk)
    assert api.get(f"/api/v1/appointments/{visit.pk}/").json()["blood_thinner_holds"][0]["too_late"] is True


def test_a_hold_told_in_time_is_not_flagged_while_it_runs(client, calendar, clock, front_desk):
    visit = book(calendar, on_warfarin(), local(dt.date(2026, 12, 9), 9), code="ESI_IL")  # last dose Dec 3
    (hold,) = hold_reminders(visit)
    assert hold.due_at == local(dt.date(2026, 12, 3), 9)
    clock.move_to(local(dt.date(2026, 12, 7), 9))  # the hold is under way
    assert holds_told_too_late(visit) == []
    client.force_login(front_desk)
    page = client.get(f"/admin/scheduling/appointment/{visit.pk}/change/").content.decode()
    assert "Blood-thinner hold too late" not in page and "CHECK, the hold" not in page


def test_a_hold_message_already_sent_is_not_repeated_when_the_visit_moves_within_its_day(calendar, clock):
    clock.move_to(local(dt.date(2026, 11, 24), 10))
    visit = book(calendar, on_warfarin(), local(NEXT_MONDAY, 9), code="ESI_IL")
    assert dispatch.dispatch_due(now=local(dt.date(2026, 11, 24), 10)) >= 1
    services.appointment_reschedule(appointment=visit, start=local(NEXT_MONDAY, 11))
    assert [r.status for r in hold_reminders(visit)] == [ReminderStatus.SENT]


def test_the_plan_makes_a_passed_hold_reminder_due_now_and_still_drops_other_passed_steps():
    from zoneinfo import ZoneInfo

    from scheduling.reminders.plan import Step, Visit, plan

    chicago = ZoneInfo("America/Chicago")
    now = local(dt.date(2026, 11, 24), 10)
    start = local(NEXT_MONDAY, 9)
    visit = Visit(booked_at=now, arrival=start - dt.timedelta(minutes=30), start=start,
                  discharge=start + dt.timedelta(minutes=50), zone=chicago,
                  hold_last_doses={"Warfarin": dt.date(2026, 11, 23)})
    steps = [Step("blood_thinner_hold", "hold_start", at_time=dt.time(9)),
             Step("confirmation_request", "days_before", days=7, at_time=dt.time(9))]
    planned = plan(steps, visit, sms=False, now=now)
    assert [(item.kind, item.due_at) for item in planned] == [("blood_thinner_hold", now)]
    assert planned[0].context == {"drug": "Warfarin", "last_dose": "2026-11-23"}


def test_a_spanish_speaking_patient_gets_the_passed_hold_message_in_spanish(calendar, clock):
    clock.move_to(local(dt.date(2026, 11, 25), 15))
    patient = on_warfarin()
    patient.language = "es"
    patient.save()
    visit = book(calendar, patient, local(NEXT_MONDAY, 9), code="ESI_IL")
    body = render(hold_reminders(visit)[0]).body
    assert "el último día para tomar su medicamento para diluir la sangre fue el martes 24 de noviembre" in body
