"""The front desk on the phone with a patient, in a real browser at the staff's widths: find the
caller by their number typed another way, open their page, book their ordered procedure from it,
put them on the waitlist for an earlier time. The patient page, the booking form and the waitlist
page are held to axe-core and photographed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from clinic.models import Patient, Physician, ProcedureType
from scheduling.models import Appointment, ProcedureOrder
from tests.browser import STAFF_WIDTHS, sign_in
from tests.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def caller(demo_clinic):
    patient = Patient.objects.order_by("pk")[3]
    patient.phone = "(918) 555-0142"
    patient.save()
    order = ProcedureOrder.objects.create(
        patient=patient, procedure_type=ProcedureType.objects.get(code="ESI_IL"),
        ordering_physician=Physician.objects.get(user__username="okafor"), region="lumbar",
        authorization_status="approved", authorization_number="PA-2002",
        authorization_valid_from=dt.date(2026, 11, 1), authorization_valid_until=dt.date(2027, 4, 30))
    return patient, order


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_the_front_desk_finds_a_caller_by_phone_and_books_their_order_from_their_page(
        visitor, front_desk, caller, width):
    patient, order = caller
    you = visitor("patient-admin", width)
    sign_in(you, front_desk)
    page = you.page

    page.goto("/admin/clinic/patient/")
    page.locator("#searchbar").fill("+1 918.555.0142")
    page.locator("#searchbar").press("Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#result_list").get_by_role("link", name=patient.last_name).click()

    expect(page.get_by_role("heading", name="Open orders")).to_be_visible()
    expect(page.locator(".patient-overview").first).to_contain_text("Interlaminar epidural steroid injection")
    you.check("patient-page")

    page.get_by_role("link", name="Book", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a visit")
    expect(page.locator("fieldset.day .physician-name", has_text="Dr. Maya Okafor").first).to_be_visible()
    you.check("booking-form")

    # Choosing a physician searches again at once.
    page.get_by_label("Physician").select_option(label="Dr. Daniel Reyes")
    expect(page.locator("fieldset.day").first).to_contain_text("Dr. Daniel Reyes")
    expect(page.locator("fieldset.day .physician-name", has_text="Dr. Maya Okafor")).to_have_count(0)
    first_time = page.locator("fieldset.day label.time").first
    chosen = first_time.locator("input").get_attribute("value")
    first_time.click()
    you.check("time-chosen")

    page.get_by_role("button", name="Book this time").click()
    expect(page.locator(".messagelist")).to_contain_text(re.compile(rf"Booked {patient.first_name} {patient.last_name}"))
    you.check("booked")
    appointment = Appointment.objects.get(patient=patient)
    start, physician_id, room_id = chosen.split("|")
    assert appointment.procedure_start == dt.datetime.fromisoformat(start)
    assert (appointment.physician_id, appointment.room_id, appointment.order_id) == (
        int(physician_id), int(room_id), order.pk)
    page.goto(f"/admin/clinic/patient/{patient.pk}/change/")
    expect(page.locator(".patient-overview").first).to_contain_text("Dr. Daniel Reyes")
    you.check("patient-page-booked")
    # Its visits and messages tables scroll in their own boxes; the page never widens past the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    # The caller would take an earlier time, with any physician.
    page.get_by_role("link", name="Put on the waitlist…").click()
    page.get_by_label("Any physician who performs it").check()
    you.check("waitlist")
    page.get_by_role("button", name="Put on the waitlist").click()
    expect(page.locator(".messagelist")).to_contain_text("is on the waitlist for a time earlier than")
    expect(page.locator("#waitlist")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.waitlist_entry.any_physician


def test_on_a_phone_the_patient_page_with_visits_and_messages_fits_the_screen(visitor, front_desk, caller):
    """The visits and messages tables scroll in their own boxes: the page never widens past 390 px."""
    from scheduling import services
    from tests.conftest import NEXT_MONDAY

    patient, order = caller
    start = dt.datetime.combine(NEXT_MONDAY, dt.time(9), tzinfo=NOW.tzinfo)
    services.appointment_book(patient=patient, procedure_type=order.procedure_type, order=order,
                              physician=order.ordering_physician, start=start, by=front_desk)
    you = visitor("patient-admin-phone", "phone")
    sign_in(you, front_desk)
    page = you.page
    page.goto(f"/admin/clinic/patient/{patient.pk}/change/")
    expect(page.locator("#messages-sent")).to_be_visible()
    you.check("patient-page-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
