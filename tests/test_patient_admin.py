"""The patient's admin page: visits, orders and what the rules still need, outcomes, waitlist,
messages; finding a patient by phone or date of birth; the autocomplete picker; the waitlist."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.models import ProcedureType
from scheduling import availability as engine
from scheduling import services
from scheduling.models import Appointment, AppointmentStatus, Outcome, ReminderStatus, WaitlistEntry
from scheduling.pathways.eligibility import check_eligibility
from scheduling.selectors import segments_of
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:clinic_patient_changelist")


def patient_url(patient) -> str:
    return reverse("admin:clinic_patient_change", args=[patient.pk])


def join_url(appointment) -> str:
    return reverse("admin:scheduling_waitlistentry_join", args=[appointment.pk])


def page_of(response) -> str:
    return html.unescape(response.content.decode())


def past_visit(calendar, patient, day: dt.date, procedure_type=None, *, relief: int | None = None) -> Appointment:
    """A visit done before the test's today, recorded as it would have been (with its outcome)."""
    procedure_type = procedure_type or calendar.mbb
    visit = engine.visit_at(local(day, 9), segments_of(procedure_type))
    room = calendar.location.rooms.filter(capabilities__code="fluoroscopy").first()
    appointment = Appointment.objects.create(
        location=calendar.location, physician=calendar.okafor, room=room, patient=patient,
        procedure_type=procedure_type, status=AppointmentStatus.COMPLETED, arrival=visit.arrival,
        procedure_start=visit.start, procedure_end=visit.end, discharge=visit.discharge,
        room_start=visit.room_start, room_end=visit.room_end,
        order=calendar.order_for(patient, procedure_type, status="completed"))
    if relief is not None:
        Outcome.objects.create(appointment=appointment, pain_before=8, pain_after=8 - 8 * relief // 100,
                               relief_percent=relief, notes="Walked further")
    return appointment


@pytest.fixture
def record(calendar, front_desk):
    """Patient 0: a past block with its outcome, a booked ESI on the waitlist with its messages, and
    an RFA order the rules do not allow yet."""
    patient = calendar.patients[0]
    block = past_visit(calendar, patient, NOW.date() - dt.timedelta(days=20), relief=70)
    calendar.order_for(patient)
    esi = services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                    start=local(NEXT_MONDAY, 9), by=front_desk)
    services.waitlist_join(appointment=esi, any_physician=True)
    esi.reminders.filter(kind="booking_confirmation").update(status=ReminderStatus.SENT, sent_at=NOW)
    rfa = calendar.order_for(patient, ProcedureType.objects.get(code="RFA_LUMBAR"))
    return {"patient": patient, "block": block, "esi": esi, "rfa": rfa}


def test_the_patient_page_shows_visits_orders_outcomes_waitlist_and_messages(client, front_desk, record):
    client.force_login(front_desk)
    response = client.get(patient_url(record["patient"]))
    assert response.status_code == 200
    page = page_of(response)
    upcoming = page[page.index("Upcoming visits"):page.index("Open orders")]
    assert "Mon 30 Nov 2026 09:00 CST" in upcoming and "Dr. Maya Okafor" in upcoming
    assert reverse("admin:scheduling_appointment_change", args=[record["esi"].pk]) in upcoming
    assert "Scheduled" in upcoming and record["esi"].room.name in upcoming

    orders = page[page.index("Open orders"):]
    unmet = check_eligibility(patient=record["patient"], procedure_type=record["rfa"].procedure_type,
                              order=record["rfa"], day=NOW.date()).unmet
    assert unmet and all(item.message in orders for item in unmet)
    esi_order = orders[orders.index(f'order/{record["esi"].order_id}/'):]
    assert "Booked:" in esi_order[:600] and "Mon 30 Nov 2026 09:00 CST" in esi_order[:600]

    waitlist = page[page.index('id="waitlist"'):]
    assert "Any physician" in waitlist and "Waiting" in waitlist

    past = page[page.index('id="past-visits"'):page.index('id="outcomes"')]
    assert "Lumbar medial branch block" in past and "Completed" in past
    outcomes = page[page.index('id="outcomes"'):page.index('id="messages-sent"')]
    assert "8 → 3" in outcomes and "70%" in outcomes and "Walked further" in outcomes

    messages = page[page.index('id="messages-sent"'):]
    assert "Booking confirmation" in messages and "Sent" in messages and "Tue 24 Nov 2026 08:00 CST" in messages


def test_the_patient_page_has_book_buttons_prefilled_with_the_patient_and_the_order(client, front_desk, record):
    client.force_login(front_desk)
    page = page_of(client.get(patient_url(record["patient"])))
    add = reverse("admin:scheduling_appointment_add")
    patient, rfa = record["patient"], record["rfa"]
    assert f'href="{add}?patient={patient.pk}"' in page
    assert f'href="{add}?patient={patient.pk}&order={rfa.pk}&procedure_type={rfa.procedure_type_id}"' in page
    booked = client.get(f"{add}?patient={patient.pk}&order={rfa.pk}&procedure_type={rfa.procedure_type_id}")
    assert booked.status_code == 200
    assert f'<option value="{rfa.pk}" selected>' in booked.content.decode()


def test_the_orders_page_has_a_book_button_while_the_order_is_open_and_not_booked(client, front_desk, record):
    client.force_login(front_desk)
    add = reverse("admin:scheduling_appointment_add")
    rfa = client.get(reverse("admin:scheduling_procedureorder_change", args=[record["rfa"].pk]))
    assert f"{add}?patient={record['patient'].pk}&amp;order={record['rfa'].pk}" in rfa.content.decode()
    booked = client.get(reverse("admin:scheduling_procedureorder_change", args=[record["esi"].order_id]))
    assert f"{add}?patient=" not in booked.content.decode()


def test_a_nurse_sees_the_patient_page_without_book_or_waitlist_buttons(client, nurse, record):
    client.force_login(nurse)
    page = page_of(client.get(patient_url(record["patient"])))
    assert "Upcoming visits" in page
    assert reverse("admin:scheduling_appointment_add") not in page and "Put on the waitlist" not in page


def test_the_patient_pages_queries_do_not_grow_with_the_number_of_visits(client, front_desk, calendar, record):
    client.force_login(front_desk)
    url = patient_url(record["patient"])
    client.get(url)  # warm the caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for weeks in range(1, 13):
        past_visit(calendar, record["patient"], NOW.date() - dt.timedelta(weeks=weeks + 4), relief=60)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    page = page_of(response)
    assert page[page.index('id="outcomes"'):page.index('id="messages-sent"')].count("60%") == 12
    assert len(many) == len(few), "\n".join(query["sql"] for query in many.captured_queries)


@pytest.fixture
def caller(calendar):
    patient = calendar.patients[3]
    patient.phone, patient.date_of_birth = "(918) 555-0142", dt.date(1961, 4, 17)
    patient.save()
    return patient


@pytest.mark.parametrize("typed", ["(918) 555-0142", "918.555.0142", "+1 918 555 0142", "9185550142",
                                   "918-555-0142", "555-0142"])
def test_the_front_desk_finds_a_patient_by_phone_typed_in_any_common_style(client, front_desk, caller, typed):
    client.force_login(front_desk)
    found = list(client.get(CHANGELIST, {"q": typed}).context["cl"].result_list)
    assert found == [caller]


@pytest.mark.parametrize("typed", ["1961-04-17", "04/17/1961", "4/17/1961"])
def test_the_front_desk_finds_a_patient_by_date_of_birth(client, front_desk, caller, typed):
    client.force_login(front_desk)
    found = list(client.get(CHANGELIST, {"q": typed}).context["cl"].result_list)
    assert found == [caller]


def test_a_name_and_a_date_of_birth_together_narrow_the_search(client, front_desk, calendar, caller):
    client.force_login(front_desk)
    namesake = calendar.patients[4]
    namesake.last_name = caller.last_name
    namesake.save()
    assert set(client.get(CHANGELIST, {"q": caller.last_name}).context["cl"].result_list) >= {caller, namesake}
    found = list(client.get(CHANGELIST, {"q": f"{caller.last_name} 4/17/1961"}).context["cl"].result_list)
    assert found == [caller]


def test_a_name_search_still_works_and_a_bad_date_is_a_name(client, front_desk, caller):
    client.force_login(front_desk)
    assert caller in client.get(CHANGELIST, {"q": caller.first_name}).context["cl"].result_list
    response = client.get(CHANGELIST, {"q": "13/45/1961"})
    assert response.status_code == 200 and not list(response.context["cl"].result_list)


@pytest.mark.parametrize("model_name", ["appointment", "procedureorder"])
def test_the_patient_picker_finds_a_patient_by_phone_or_birthday(client, front_desk, caller, model_name):
    client.force_login(front_desk)
    for term in ("918.555.0142", "4/17/1961", caller.last_name):
        response = client.get("/admin/autocomplete/", {"app_label": "scheduling", "model_name": model_name,
                                                       "field_name": "patient", "term": term})
        assert response.status_code == 200
        assert str(caller.pk) in [result["id"] for result in response.json()["results"]], term


def test_every_patient_picker_is_an_autocomplete_not_a_list_of_every_patient(client, front_desk, manager, calendar):
    client.force_login(front_desk)
    booking = client.get(reverse("admin:scheduling_appointment_add")).content.decode()
    assert 'name="patient"' in booking and "admin-autocomplete" in booking
    assert str(calendar.patients[5]) not in booking
    client.force_login(manager)
    order = client.get(reverse("admin:scheduling_procedureorder_add")).content.decode()
    assert "admin-autocomplete" in order and str(calendar.patients[5]) not in order


def test_the_front_desk_puts_a_caller_on_the_waitlist_from_the_visit(client, front_desk, calendar):
    calendar.order_for(calendar.patients[0])
    visit = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                      physician=calendar.okafor, start=local(NEXT_MONDAY, 9))
    client.force_login(front_desk)
    change = client.get(reverse("admin:scheduling_appointment_change", args=[visit.pk])).content.decode()
    assert join_url(visit) in change and "Put on the waitlist…" in change
    ask = client.get(join_url(visit), {"next": patient_url(visit.patient)})
    assert ask.status_code == 200 and "Any physician who performs it</label>" in ask.content.decode()
    done = client.post(join_url(visit), {"any_physician": "on", "next": patient_url(visit.patient)})
    assert done.status_code == 302 and done["Location"] == patient_url(visit.patient)
    entry = WaitlistEntry.objects.get(appointment=visit)
    assert entry.status == "waiting" and entry.any_physician


def test_a_visit_that_is_not_upcoming_cannot_go_on_the_waitlist(client, front_desk, calendar):
    past = past_visit(calendar, calendar.patients[0], NOW.date() - dt.timedelta(days=3))
    client.force_login(front_desk)
    assert "Only an upcoming visit can go on the waitlist." in client.get(join_url(past)).content.decode()
    response = client.post(join_url(past), {"any_physician": "on"})
    assert "Only an upcoming visit can go on the waitlist." in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_waitlist_links_elsewhere_than_the_admin_go_back_to_the_patient(client, front_desk, calendar):
    calendar.order_for(calendar.patients[0])
    visit = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                      physician=calendar.okafor, start=local(NEXT_MONDAY, 9))
    client.force_login(front_desk)
    done = client.post(join_url(visit), {"next": "https://elsewhere.example/"})
    assert done["Location"] == patient_url(visit.patient)
    assert client.get(reverse("admin:scheduling_waitlistentry_join", args=[999999])).status_code == 302


def test_a_nurse_may_not_put_a_patient_on_the_waitlist(client, nurse, calendar):
    calendar.order_for(calendar.patients[0])
    visit = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                      physician=calendar.okafor, start=local(NEXT_MONDAY, 9))
    client.force_login(nurse)
    assert client.get(join_url(visit)).status_code == 403
    assert client.post(join_url(visit), {"any_physician": "on"}).status_code == 403
    assert not WaitlistEntry.objects.exists()


def test_adding_to_the_waitlist_from_its_list_picks_the_patient_then_opens_their_visits(
        client, front_desk, nurse, calendar):
    add = reverse("admin:scheduling_waitlistentry_add")
    client.force_login(front_desk)
    ask = client.get(add)
    assert ask.status_code == 200 and "admin-autocomplete" in ask.content.decode()
    assert client.get(add, {"patient": "abc"}).status_code == 200
    chosen = client.get(add, {"patient": calendar.patients[2].pk})
    assert chosen["Location"] == patient_url(calendar.patients[2]) + "#upcoming-visits"
    client.force_login(nurse)
    assert client.get(add).status_code == 403
