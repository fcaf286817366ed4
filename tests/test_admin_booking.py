"""Staff booking in the admin: from the engine's slots, with conflicts as form errors."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from scheduling import services
from scheduling.models import Appointment, AppointmentStatus
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db

ADD = reverse("admin:scheduling_appointment_add")


def form(calendar, patient, **extra) -> dict:
    return {"patient": patient.pk, "procedure_type": calendar.esi.pk, "location": calendar.location.pk,
            "physician_choice": "", "day": NEXT_MONDAY.isoformat(), "notes": "", **extra}


def offered(response) -> list[str]:
    return re.findall(r'<option value="([^"]+\|[^"]+)"', response.content.decode())


def test_the_add_form_offers_available_times_instead_of_free_typing(client, front_desk, calendar):
    client.force_login(front_desk)
    assert client.get(ADD).status_code == 200
    calendar.order_for(calendar.patients[0])
    response = client.post(ADD, form(calendar, calendar.patients[0]))
    assert response.status_code == 200
    assert "Choose one of the available times." in response.content.decode()
    choices = offered(response)
    assert choices and choices[0].startswith("2026-11-30T07:30:00-06:00|")
    assert "Mon 30 Nov 07:30" in response.content.decode()


def test_choosing_a_time_books_it(client, front_desk, calendar):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    choice = offered(client.post(ADD, form(calendar, calendar.patients[0])))[2]
    response = client.post(ADD, form(calendar, calendar.patients[0], slot=choice, notes="Prefers mornings"))
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment = Appointment.objects.get()
    assert appointment.procedure_start == local(NEXT_MONDAY, 8)
    assert appointment.booked_by == front_desk and appointment.notes == "Prefers mornings"


def test_a_time_taken_meanwhile_is_a_form_error_with_fresh_choices(client, front_desk, calendar):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    choice = offered(client.post(ADD, form(calendar, calendar.patients[0])))[0]
    calendar.order_for(calendar.patients[1])
    services.appointment_book(patient=calendar.patients[1], procedure_type=calendar.esi, physician=calendar.okafor,
                              start=local(NEXT_MONDAY, 7, 30))
    response = client.post(ADD, form(calendar, calendar.patients[0], slot=choice))
    assert response.status_code == 200
    assert "physician is already booked" in response.content.decode()
    assert choice not in offered(response)
    assert Appointment.objects.count() == 1


def test_a_missing_order_is_a_form_error(client, front_desk, calendar):
    client.force_login(front_desk)
    choice = f"{local(NEXT_MONDAY, 9).isoformat()}|{calendar.okafor.pk}|"
    response = client.post(ADD, form(calendar, calendar.patients[0], slot=choice + "1"))
    assert "needs a physician&#x27;s order" in response.content.decode() or "needs a physician's order" in \
        response.content.decode()


def test_cancelling_from_the_list_asks_for_a_reason(client, front_desk, nurse, calendar):
    calendar.order_for(calendar.patients[0])
    appointment = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                            physician=calendar.okafor, start=local(NEXT_MONDAY, 9))
    changelist = reverse("admin:scheduling_appointment_changelist")
    client.force_login(nurse)
    assert "cancel" not in client.get(changelist).context["action_form"].fields["action"].choices.__repr__()
    client.force_login(front_desk)
    ask = client.post(changelist, {"action": "cancel", "_selected_action": [appointment.pk]})
    assert ask.status_code == 200 and "Reason" in ask.content.decode()
    done = client.post(changelist, {"action": "cancel", "_selected_action": [appointment.pk], "apply": "1",
                                    "reason": "Patient called"})
    assert done.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED and appointment.cancel_reason == "Patient called"


def test_the_appointment_page_shows_its_history(client, front_desk, calendar, clock):
    calendar.order_for(calendar.patients[0])
    appointment = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                            physician=calendar.okafor, start=local(NEXT_MONDAY, 9),
                                            booked_by=front_desk)
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    services.appointment_check_in(appointment=appointment, by=front_desk)
    client.force_login(front_desk)
    history = client.get(reverse("admin:scheduling_appointment_history", args=[appointment.pk]))
    assert history.status_code == 200
    page = history.content.decode()
    assert "Checked in" in page and "Booked" in page and front_desk.username in page
    assert client.get(reverse("admin:scheduling_appointment_change", args=[appointment.pk])).status_code == 200
