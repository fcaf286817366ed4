"""A booked visit's blood-thinner hold reminder follows the hold table and the patient's list of
blood thinners as staff change them in the admin: a longer hold moves the last-dose day (and
the message) earlier, a drug started after booking gets its message, a drug stopped loses it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import BloodThinner
from scheduling import services
from scheduling.models import Reminder, ReminderStatus
from tests.conftest import local
from tests.test_procedures_elsewhere import patient_form
from tests.test_reminders import book, sms_patient

pytestmark = pytest.mark.django_db

WEDNESDAY = dt.date(2026, 12, 9)  # Dr. Okafor works procedures; the clock stands at Tue 2026-11-24


def pending_holds(appointment) -> list[tuple[str, dt.datetime]]:
    return [(hold.context["last_dose"], hold.due_at) for hold in appointment.reminders.filter(
        kind="blood_thinner_hold", status=ReminderStatus.PENDING).order_by("due_at")]


def test_a_longer_hold_in_the_table_moves_the_booked_visits_last_dose_day(calendar, client, manager):
    apixaban = BloodThinner.objects.get(name="Apixaban")
    patient = sms_patient()
    patient.blood_thinners.set([apixaban])
    appointment = book(calendar, patient, start=local(WEDNESDAY, 9))
    assert pending_holds(appointment) == [("2026-12-05", local(dt.date(2026, 12, 5), 9))]

    client.force_login(manager)
    response = client.post(reverse("admin:clinic_bloodthinner_change", args=[apixaban.pk]), {
        "name": apixaban.name, "hold_days_high": apixaban.hold_days_high + 2,
        "hold_days_intermediate": apixaban.hold_days_intermediate + 2, "hold_days_low": apixaban.hold_days_low,
        "restart_guidance": apixaban.restart_guidance}, follow=True)

    assert response.status_code == 200
    assert "follow the new days" in response.content.decode()
    assert pending_holds(appointment) == [("2026-12-03", local(dt.date(2026, 12, 3), 9))]


def test_a_blood_thinner_started_or_stopped_after_booking_is_told_or_dropped(calendar, client, front_desk):
    patient = sms_patient()
    appointment = book(calendar, patient, start=local(WEDNESDAY, 9))
    Reminder.objects.filter(appointment=appointment, kind="booking_confirmation").update(status=ReminderStatus.SENT)
    services.appointment_reschedule(appointment=appointment, start=local(WEDNESDAY, 10))
    moved = appointment.reminders.get(kind="visit_moved", status=ReminderStatus.PENDING)
    assert pending_holds(appointment) == []
    url = reverse("admin:clinic_patient_change", args=[patient.pk])
    client.force_login(front_desk)

    form = patient_form(client.get(url), patient)
    form["blood_thinners"] = [BloodThinner.objects.get(name="Apixaban").pk]
    response = client.post(url, form, follow=True)
    assert "follow the new medications" in response.content.decode()
    assert pending_holds(appointment) == [("2026-12-05", local(dt.date(2026, 12, 5), 9))]

    form = patient_form(client.get(url), patient)
    form["blood_thinners"] = []
    client.post(url, form)
    assert pending_holds(appointment) == []
    # The move's message, waiting to go, is still waiting: only the hold messages are planned again.
    moved.refresh_from_db()
    assert moved.status == ReminderStatus.PENDING
    # The rest of the visit's plan is still there, once each.
    kinds = list(appointment.reminders.filter(status=ReminderStatus.PENDING).values_list("kind", flat=True))
    assert len(kinds) == len(set(kinds)) and "arrival" in kinds


def _change_form(response) -> dict:
    """An admin change form as the page holds it."""
    data = {}
    for name, value in response.context["adminform"].form.initial.items():
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, (list, tuple)) or hasattr(value, "all"):
            data[name] = [getattr(each, "pk", each) for each in value]
        else:
            data[name] = getattr(value, "pk", value)
    return data


def test_a_procedures_bleeding_risk_lowered_to_none_drops_its_visits_hold_messages(calendar, client, manager):
    from clinic.models import ProcedureType

    patient = sms_patient()
    patient.blood_thinners.set([BloodThinner.objects.get(name="Apixaban")])
    appointment = book(calendar, patient, start=local(WEDNESDAY, 9))
    assert pending_holds(appointment)
    esi = ProcedureType.objects.get(code="ESI_IL")
    url = reverse("admin:clinic_proceduretype_change", args=[esi.pk])
    client.force_login(manager)

    form = _change_form(client.get(url))
    form["bleeding_risk"] = "none"
    response = client.post(url, form, follow=True)

    assert "follow the new bleeding risk" in response.content.decode(), response.context.get("errors")
    assert pending_holds(appointment) == []
