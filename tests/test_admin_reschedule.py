"""Staff move a visit in the admin: to a time the engine offers, through the reschedule service."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from clinic import roles
from scheduling import services
from scheduling.models import Appointment, AppointmentStatus, ReminderStatus
from tests.conftest import NEXT_MONDAY, NEXT_THURSDAY, local

pytestmark = pytest.mark.django_db


def reschedule_url(appointment) -> str:
    return reverse("admin:scheduling_appointment_reschedule", args=[appointment.pk])


def change_url(appointment) -> str:
    return reverse("admin:scheduling_appointment_change", args=[appointment.pk])


def offered(response) -> list[str]:
    return re.findall(r'<option value="([^"]+\|[^"]+)"', response.content.decode())


def choice_at(response, start) -> str:
    return next(choice for choice in offered(response) if choice.startswith(start.isoformat() + "|"))


def form(day, physician=None, **extra) -> dict:
    return {"day": day.isoformat(), "physician": physician.pk if physician else "", **extra}


@pytest.fixture
def visit(calendar, front_desk):
    """Patient 0's lumbar ESI with Dr. Okafor, next Monday at 09:00."""
    calendar.order_for(calendar.patients[0])
    return services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                     physician=calendar.okafor, start=local(NEXT_MONDAY, 9), by=front_desk)


def test_the_change_page_links_to_the_reschedule_page(client, front_desk, visit):
    client.force_login(front_desk)
    page = client.get(change_url(visit)).content.decode()
    assert reschedule_url(visit) in page and "Reschedule…" in page


def test_the_page_offers_the_engines_times_in_the_clinics_zone_but_not_the_visits_own_clash(
        client, front_desk, calendar, visit):
    client.force_login(front_desk)
    response = client.post(reschedule_url(visit), form(NEXT_MONDAY, calendar.okafor, _show="1"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Now: Mon 30 Nov 2026 09:00 CST" in page
    choices = offered(response)
    assert choices[0].startswith("2026-11-30T07:30:00-06:00|")
    assert "Mon 30 Nov 07:30 — Dr." in page
    # The visit does not block itself: the times overlapping it are offered; its own is no new time.
    assert f"{local(NEXT_MONDAY, 9).isoformat()}|{visit.physician_id}|{visit.room_id}" not in choices
    assert choice_at(response, local(NEXT_MONDAY, 9, 15))
    assert Appointment.objects.get(pk=visit.pk).procedure_start == local(NEXT_MONDAY, 9)


def test_the_pathways_interval_does_not_count_the_visit_being_moved(client, front_desk, calendar, visit):
    # ESIs need 14 days between them: counting itself, the visit could not move two days.
    wednesday = NEXT_MONDAY + dt.timedelta(days=2)
    client.force_login(front_desk)
    response = client.post(reschedule_url(visit), form(wednesday, calendar.okafor, _show="1"))
    assert offered(response)[0].startswith("2026-12-02T07:30:00-06:00|")
    assert "Not allowed on the day asked for" not in response.content.decode()


@pytest.fixture
def second_injection(calendar, practising_physician, visit):
    """Three weeks after the visit, booked by a physician despite the repeat-relief rule: the
    visit may now move at most to 14 days before it."""
    calendar.order_for(calendar.patients[0])
    return services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                     physician=calendar.okafor, start=local(NEXT_MONDAY + dt.timedelta(days=21), 9),
                                     by=practising_physician, override_reason="Severe flare, seen in clinic")


def test_days_the_pathway_refuses_are_not_offered_and_the_page_says_why(
        client, front_desk, calendar, visit, second_injection):
    client.force_login(front_desk)
    assert "Override reason" not in client.get(reschedule_url(visit)).content.decode()
    last_allowed = NEXT_MONDAY + dt.timedelta(days=7)
    response = client.post(reschedule_url(visit), form(last_allowed, calendar.okafor, _show="1"))
    assert offered(response)
    assert {choice[:10] for choice in offered(response)} == {last_allowed.isoformat()}
    response = client.post(reschedule_url(visit), form(last_allowed + dt.timedelta(days=1), _show="1"))
    page = response.content.decode()
    assert not offered(response) and "No time the rules allow" in page
    assert "Not allowed on the day asked for" in page and "is booked on 2026-12-21" in page


def test_a_user_who_may_override_moves_the_visit_despite_the_rules_with_a_reason(
        client, practising_physician, calendar, visit, second_injection):
    # The Physician role does not move visits; this physician also works the front desk.
    practising_physician.groups.add(Group.objects.get(name=roles.FRONT_DESK))
    client.force_login(practising_physician)
    day = NEXT_MONDAY + dt.timedelta(days=9)
    asked = {**form(day, calendar.okafor), "override_reason": "Patient travels; physician agrees"}
    choice = choice_at(client.post(reschedule_url(visit), {**asked, "_show": "1"}), local(day, 9))
    response = client.post(reschedule_url(visit), {**asked, "slot": choice, "_reschedule": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]
    visit.refresh_from_db()
    assert visit.procedure_start == local(day, 9)
    (override,) = visit.overrides.all()
    assert override.reason == "Patient travels; physician agrees" and "2026-12-21" in override.unmet


def test_a_get_lists_times_from_today_with_the_same_physician(client, front_desk, calendar, visit):
    client.force_login(front_desk)
    response = client.get(reschedule_url(visit))
    assert response.status_code == 200
    assert offered(response)
    assert {choice.split("|")[1] for choice in offered(response)} == {str(calendar.okafor.pk)}


def test_the_patients_other_visits_are_not_offered(client, front_desk, calendar, visit):
    client.force_login(front_desk)
    thursday = form(NEXT_THURSDAY, _show="1")  # Drs. Reyes and Nair do procedures; Dr. Okafor sees patients
    assert choice_at(client.post(reschedule_url(visit), thursday), local(NEXT_THURSDAY, 9))
    services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.consult,
                              physician=calendar.okafor, start=local(NEXT_THURSDAY, 9))
    starts = [choice.split("|")[0] for choice in offered(client.post(reschedule_url(visit), thursday))]
    assert starts and local(NEXT_THURSDAY, 9).isoformat() not in starts


def test_choosing_a_time_moves_the_visit_records_it_and_moves_its_reminders(client, front_desk, calendar, visit):
    before = {r.kind: r.due_at for r in visit.reminders.filter(status=ReminderStatus.PENDING)}
    client.force_login(front_desk)
    new_day = NEXT_MONDAY + dt.timedelta(days=7)
    choice = choice_at(client.post(reschedule_url(visit), form(new_day, calendar.okafor, _show="1")),
                       local(new_day, 13))
    response = client.post(reschedule_url(visit), form(new_day, calendar.okafor, slot=choice, _reschedule="1"))
    assert response.status_code == 302 and response.url == change_url(visit)
    visit.refresh_from_db()
    assert visit.procedure_start == local(new_day, 13) and visit.arrival < visit.procedure_start
    assert visit.physician == calendar.okafor and visit.status == AppointmentStatus.SCHEDULED
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Rescheduled to Mon 07 Dec 2026 13:00 CST" in message and "confirming again" in message
    latest = visit.history.order_by("-history_date", "-history_id").first()
    assert latest.history_change_reason == "Rescheduled from 2026-11-30 09:00 CST"
    assert latest.history_user == front_desk
    pending = {r.kind: r.due_at for r in visit.reminders.filter(status=ReminderStatus.PENDING)}
    assert pending["arrival"] != before["arrival"]
    assert pending["arrival"] < visit.arrival and pending["arrival"].date() == new_day
    assert {r.kind for r in visit.reminders.filter(status=ReminderStatus.CANCELLED)} >= {"arrival"}


def test_another_credentialed_physician_can_take_the_visit(client, front_desk, calendar, visit):
    client.force_login(front_desk)
    response = client.post(reschedule_url(visit), form(NEXT_THURSDAY, calendar.reyes, _show="1"))
    choice = choice_at(response, local(NEXT_THURSDAY, 10))
    done = client.post(reschedule_url(visit), form(NEXT_THURSDAY, calendar.reyes, slot=choice, _reschedule="1"))
    assert done.status_code == 302
    visit.refresh_from_db()
    assert visit.physician == calendar.reyes and visit.procedure_start == local(NEXT_THURSDAY, 10)


def test_a_time_taken_meanwhile_is_a_form_error_and_the_visit_stays(client, front_desk, calendar, visit):
    client.force_login(front_desk)
    new_day = NEXT_MONDAY + dt.timedelta(days=7)
    choice = choice_at(client.post(reschedule_url(visit), form(new_day, calendar.okafor, _show="1")),
                       local(new_day, 13))
    calendar.order_for(calendar.patients[1])
    services.appointment_book(patient=calendar.patients[1], procedure_type=calendar.esi, physician=calendar.okafor,
                              start=local(new_day, 13))
    response = client.post(reschedule_url(visit), form(new_day, calendar.okafor, slot=choice, _reschedule="1"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "physician is already booked" in page
    assert choice not in offered(response) and offered(response)
    visit.refresh_from_db()
    assert visit.procedure_start == local(NEXT_MONDAY, 9)


def test_reschedule_without_a_chosen_time_asks_for_one(client, front_desk, calendar, visit):
    client.force_login(front_desk)
    response = client.post(reschedule_url(visit), form(NEXT_MONDAY, calendar.okafor, _reschedule="1"))
    assert response.status_code == 200
    assert "Choose one of the available times." in response.content.decode()


def test_a_role_without_the_reschedule_permission_is_refused(client, nurse, physician_user, visit):
    for user in (nurse, physician_user):
        client.force_login(user)
        assert client.get(reschedule_url(visit)).status_code == 403
        assert client.post(reschedule_url(visit), form(NEXT_MONDAY, _reschedule="1")).status_code == 403
        assert reschedule_url(visit) not in client.get(change_url(visit)).content.decode()
    visit.refresh_from_db()
    assert visit.procedure_start == local(NEXT_MONDAY, 9)


def test_a_cancelled_visit_cannot_be_rescheduled(client, front_desk, visit):
    services.appointment_cancel(appointment=visit, by=front_desk, reason="Patient called")
    client.force_login(front_desk)
    assert reschedule_url(visit) not in client.get(change_url(visit)).content.decode()
    response = client.get(reschedule_url(visit))
    assert response.status_code == 302 and response.url == change_url(visit)
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Only a scheduled or confirmed visit can be rescheduled; this one is cancelled." in message
    response = client.post(reschedule_url(visit), form(NEXT_MONDAY, _reschedule="1"))
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED


def test_an_unknown_appointment_goes_back_to_the_list(client, front_desk, demo_clinic):
    client.force_login(front_desk)
    response = client.get(reverse("admin:scheduling_appointment_reschedule", args=[999999]))
    assert response.status_code == 302


def test_the_change_page_cancels_one_visit_with_a_reason(client, front_desk, calendar):
    appointment = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.consult,
                                            physician=calendar.okafor, start=local(dt.date(2026, 12, 1), 9))
    client.force_login(front_desk)
    change = client.get(f"/admin/scheduling/appointment/{appointment.pk}/change/").content.decode()
    assert f"/admin/scheduling/appointment/{appointment.pk}/cancel/" in change
    form = client.get(f"/admin/scheduling/appointment/{appointment.pk}/cancel/")
    assert form.status_code == 200 and "Cancel these visits" in form.content.decode()
    assert f'href="/admin/scheduling/appointment/{appointment.pk}/change/"' in form.content.decode()  # "Keep it"
    done = client.post(f"/admin/scheduling/appointment/{appointment.pk}/cancel/",
                       {"apply": "1", "action": "cancel", "reason": "Patient called"})
    assert done.status_code == 302 and done["Location"].endswith(f"/appointment/{appointment.pk}/change/")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED and appointment.cancel_reason == "Patient called"
    assert Appointment.objects.filter(pk=appointment.pk).exists()


def test_a_nurse_cannot_cancel_from_the_change_page(client, nurse, calendar):
    appointment = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.consult,
                                            physician=calendar.okafor, start=local(dt.date(2026, 12, 1), 9))
    client.force_login(nurse)
    assert client.get(f"/admin/scheduling/appointment/{appointment.pk}/cancel/").status_code == 403
