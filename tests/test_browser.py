"""The booking pages in a real browser (Chromium), at a phone's width and a desktop's: book a
consultation, book an ordered procedure from the clinic's link, move and cancel a visit, lose a
race for a time, and book without JavaScript. Every page reached is held to axe-core (nothing
serious or critical) and photographed into tests/artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from icalendar import Calendar
from playwright.sync_api import Page, expect

from clinic.models import Patient, Physician, ProcedureType
from scheduling import services
from scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, ProcedureOrder, SlotHold
from scheduling.pathways.holds import preparation_lines
from scheduling.reminders.links import link, order_link
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.browser import WIDTHS, Visitor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Tuesday 2026-12-01: Dr. Okafor's clinic block 08:00-16:00 (consultations), in the week after NOW's.
NEXT_TUESDAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def clinic_clock():
    """NOW, moving: the live server answers from its own thread while the browser takes real
    seconds, so holds and sessions age as they do for a patient."""
    with time_machine.travel(NOW, tick=True):
        yield


def slot(page: Page, day: dt.date, time: str):
    """The button for `time` on `day` in the week shown ("9:00 AM"). On a phone with JavaScript
    the week shows one day at a time: its day link comes first."""
    day_link = page.locator(f'.daylinks a[href="#day-{day.isoformat()}"]')
    if day_link.count() and day_link.first.is_visible():
        day_link.first.click()
    return page.locator(f"#day-{day.isoformat()}").get_by_role("button", name=re.compile(rf", {time}\b"))


def fact(page: Page, label: str):
    """What the visit's facts list says under `label` ("Arrive at")."""
    return page.locator("dl.facts dt", has_text=label).locator("xpath=following-sibling::dd[1]")


def book_a_consultation(you: Visitor) -> None:
    page = you.page
    page.goto("/book/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a visit")
    you.check("start")

    page.get_by_role("link", name="New patient consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a time")
    you.check("picker")

    if you.javascript:
        page.evaluate("window.__marker = 1")
    page.get_by_role("link", name="Later week").first.click()
    expect(page.locator("#week-title")).to_have_text("Week of Monday, November 30")
    expect(page).to_have_url(re.compile(r"week=2026-11-30"))
    if you.javascript:
        assert page.evaluate("window.__marker") == 1, "the week was loaded as a new page, not swapped in"
    you.check("later-week")

    slot(page, NEXT_TUESDAY, "9:00 AM").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    expect(page.locator(".card").first).to_contain_text("Tuesday, December 1, 2026")
    you.check("details")

    page.get_by_role("button", name="Book this visit").click()  # nothing filled in yet
    expect(page.locator(".errorlist").first).to_be_visible()
    you.check("details-errors")

    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Quintero")
    page.get_by_label("Date of birth").fill("1958-04-02")
    page.get_by_label("Mobile phone").fill("(918) 555-0111")
    page.get_by_label(re.compile(r"^Email")).fill("rosa@example.com")
    page.get_by_label("Send me text messages about my visits").check()
    page.get_by_label("Send me emails about my visits").check()
    page.get_by_role("button", name="Book this visit").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your visit is booked")
    expect(fact(page, "Day")).to_have_text("Tuesday, December 1, 2026")
    expect(fact(page, "Arrive at")).to_have_text("8:45 AM")  # 15 minutes ahead of the visit
    expect(fact(page, "Visit starts")).to_have_text("9:00 AM")
    you.check("booked")

    calendar_file = page.request.get(page.get_by_role("link", name="Add to my calendar").get_attribute("href"))
    assert calendar_file.ok and calendar_file.headers["content-type"].startswith("text/calendar")
    (event,) = Calendar.from_ical(calendar_file.body()).walk("VEVENT")
    assert event.decoded("dtstart") == local(NEXT_TUESDAY, 8, 45)

    appointment = Appointment.objects.get(patient__last_name="Quintero")
    assert appointment.procedure_start == local(NEXT_TUESDAY, 9) and appointment.booked_by is None


@pytest.mark.parametrize("width", WIDTHS)
def test_a_new_patient_books_a_consultation_and_the_week_changes_in_place(visitor, width):
    book_a_consultation(visitor("consultation", width))


def test_a_consultation_can_be_booked_without_javascript(visitor):
    book_a_consultation(visitor("consultation-no-js", "phone", javascript=False))


@pytest.fixture
def order(demo_clinic) -> ProcedureOrder:
    """An open lumbar epidural order with an approved authorization, for a patient on no blood thinner."""
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    return ProcedureOrder.objects.create(
        patient=patient, procedure_type=ProcedureType.objects.get(code="ESI_IL"),
        ordering_physician=Physician.objects.get(user__username="okafor"), region="lumbar",
        authorization_status="approved", authorization_number="PA-1001",
        authorization_valid_from=dt.date(2026, 11, 1), authorization_valid_until=dt.date(2027, 4, 30))


@pytest.mark.parametrize("width", WIDTHS)
def test_an_ordered_procedure_is_booked_from_the_clinics_link(visitor, order, width):
    you = visitor("order", width)
    page = you.page
    page.goto(order_link(order))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a time")
    expect(page.get_by_role("heading", name="Before your procedure")).to_be_visible()
    expect(page.locator("main")).to_contain_text(preparation_lines(order.procedure_type)[0])
    you.check("picker")

    # Not today's first time: it sits on the minimum notice's edge, and the clock moves.
    page.get_by_role("link", name="Later week").first.click()
    slot(page, NEXT_MONDAY, "9:00 AM").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check and book")
    expect(page.locator("main")).to_contain_text("Monday, November 30, 2026")
    expect(page.get_by_role("heading", name="Getting ready")).to_be_visible()
    you.check("check")

    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your visit is booked")
    you.check("booked")
    expect(fact(page, "Day")).to_have_text("Monday, November 30, 2026")
    expect(fact(page, "Visit starts")).to_have_text("9:00 AM")
    booked = order.appointments.get(status__in=ACTIVE_STATUSES)
    assert booked.patient == order.patient and booked.procedure_start == local(NEXT_MONDAY, 9)


@pytest.fixture
def appointment(order) -> Appointment:
    return services.appointment_book(patient=order.patient, procedure_type=order.procedure_type,
                                     physician=Physician.objects.get(user__username="okafor"),
                                     start=local(NEXT_MONDAY, 9))


@pytest.mark.parametrize("width", WIDTHS)
def test_a_patient_moves_then_cancels_a_visit_from_the_manage_link(visitor, appointment, width):
    you = visitor("manage", width)
    page = you.page
    page.goto(link(appointment, "manage"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your visit")
    expect(fact(page, "Day")).to_have_text("Monday, November 30, 2026")
    expect(fact(page, "Visit starts")).to_have_text("9:00 AM")
    you.check("manage")

    page.get_by_role("link", name="Change the time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new time")
    you.check("reschedule")

    page.get_by_role("link", name="Later week").first.click()
    slot(page, NEXT_MONDAY, "1:00 PM").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move your visit")
    expect(page.locator("main")).to_contain_text("To: Monday, November 30, 2026 at 1:00 PM")
    you.check("reschedule-confirm")

    page.get_by_role("button", name="Move my visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your visit")
    expect(page.get_by_role("status")).to_contain_text("Your visit has moved")
    expect(fact(page, "Visit starts")).to_have_text("1:00 PM")
    you.check("moved")

    page.get_by_role("link", name="Cancel the visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your visit")
    you.check("cancel")

    page.get_by_label("Why are you cancelling?").select_option(label="I have no ride")
    page.get_by_role("button", name="Cancel my visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your visit is cancelled")
    you.check("cancelled")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.procedure_start == local(NEXT_MONDAY, 13)
    assert appointment.cancel_reason == "By the patient: I have no ride"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_broken_link_gets_a_page_with_the_clinics_phone(visitor, width):
    you = visitor("broken-link", width)
    page = you.page
    page.goto("/visit/not-a-real-link/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    expect(page.locator("main")).to_contain_text("(918) 555-0140")
    you.check("invalid")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_second_of_two_people_picking_one_time_is_offered_the_nearest_others(visitor, width):
    first, second = visitor("race-first", width), visitor("race-second", width)
    for person in (first, second):
        person.page.goto("/book/times/?visit=CONSULT_NEW&week=2026-11-30")
        expect(slot(person.page, NEXT_TUESDAY, "9:00 AM")).to_be_visible()

    wanted = slot(first.page, NEXT_TUESDAY, "9:00 AM").get_attribute("value")  # the time and the doctor
    slot(first.page, NEXT_TUESDAY, "9:00 AM").click()
    expect(first.page.get_by_role("heading", level=1)).to_have_text("Your details")
    first.check("details")

    slot(second.page, NEXT_TUESDAY, "9:00 AM").click()  # still shown on the page loaded before
    taken = second.page.get_by_role("alert")
    expect(taken).to_contain_text("Sorry, that time has just been taken. Here are the nearest free times.")
    expect(second.page.locator(f'button[value="{wanted}"]')).to_have_count(0)  # another doctor's 9:00 may stay
    expect(taken.get_by_role("button")).not_to_have_count(0)
    second.check("taken")

    taken.get_by_role("button").first.click()
    expect(second.page.get_by_role("heading", level=1)).to_have_text("Your details")
    second.check("details")
    assert SlotHold.objects.count() == 2
