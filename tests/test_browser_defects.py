"""In a real browser (Chromium): a booking form from a second tab books nothing it does not show,
and the staff see a blood-thinner hold told too late, the location's patient-facing policy and
why an order's booking link was not sent. The patient pages are held to axe-core; every page is
photographed into tests/artifacts/screenshots/ (the stock admin pages are photographed only:
their breadcrumbs fail axe's link-in-text-block, which is the admin's own style)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from clinic.models import BloodThinner, Location, Patient, Physician, ProcedureType
from scheduling import services
from scheduling.models import Appointment, ProcedureOrder
from tests.browser import SCREENSHOTS, STAFF_WIDTHS, WIDTHS, Visitor, sign_in
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.test_browser import slot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEXT_TUESDAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


def photograph(staff: Visitor, step: str) -> None:
    staff.steps += 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    staff.page.screenshot(path=SCREENSHOTS / f"{staff.name}-{staff.steps:02d}-{step}.png", full_page=True)


def pick(page, time: str) -> None:
    page.goto("/book/times/?visit=CONSULT_NEW&week=2026-11-30")
    slot(page, NEXT_TUESDAY, time).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_form_left_open_in_one_tab_does_not_book_the_time_picked_in_another(visitor, width):
    you = visitor("two-tabs", width)
    first, second = you.page, you.context.new_page()
    pick(first, "9:00 AM")
    pick(second, "11:00 AM")
    first.get_by_label("First name").fill("Rosa")
    first.get_by_label("Last name").fill("Quintero")
    first.get_by_label("Date of birth").fill("1958-04-02")
    first.get_by_label(re.compile(r"^Email")).fill("rosa@example.com")
    first.get_by_label("Send me emails about my visits").check()
    first.get_by_role("button", name="Book this visit").click()
    expect(first.get_by_role("alert")).to_contain_text("You picked another time in another window")
    expect(first.locator("dl.facts").first).to_contain_text("11:00 AM")  # the time held now, shown
    assert not Appointment.objects.filter(patient__last_name="Quintero").exists()
    you.check("form-from-the-other-tab")

    first.get_by_label(re.compile(r"9:00 AM")).check()  # the form's own time, free again
    first.get_by_role("button", name="Book this visit").click()
    expect(first.get_by_role("heading", level=1)).to_have_text("Your visit is booked")
    you.check("booked-the-time-it-showed")
    assert Appointment.objects.get(patient__last_name="Quintero").procedure_start == local(NEXT_TUESDAY, 9)


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_staff_see_a_hold_told_too_late_on_the_visit(visitor, front_desk, width):
    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    patient.blood_thinners.set([BloodThinner.objects.get(name="Warfarin")])
    esi = ProcedureType.objects.get(code="ESI_IL")
    order = ProcedureOrder.objects.create(patient=patient, procedure_type=esi, region="lumbar",
                                          ordering_physician=Physician.objects.get(user__username="okafor"))
    with time_machine.travel(local(dt.date(2026, 11, 25), 15), tick=False):  # after the last-dose day
        visit = services.appointment_book(patient=patient, procedure_type=esi, order=order, start=local(NEXT_MONDAY, 9),
                                          physician=Physician.objects.get(user__username="okafor"))
    staff = visitor("hold-too-late", width)
    sign_in(staff, front_desk)
    staff.page.goto(f"/admin/scheduling/appointment/{visit.pk}/change/")
    expect(staff.page.locator(".messagelist .warning")).to_contain_text("Blood-thinner hold too late")
    photograph(staff, "appointment")


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_the_manager_edits_what_patients_are_told_and_the_desk_learns_why_a_link_was_not_sent(
        visitor, manager, front_desk, width):
    location = Location.objects.get()
    staff = visitor("location-and-order-link", width)
    sign_in(staff, manager)
    staff.page.goto(f"/admin/clinic/location/{location.pk}/change/")
    staff.page.get_by_label("What to bring [en]").fill("Your photo ID and your insurance card.")
    staff.page.get_by_label("Late cancellation (hours)").fill("48")
    photograph(staff, "location")
    staff.page.get_by_role("button", name="Save", exact=True).click()
    location.refresh_from_db()
    assert (location.what_to_bring, location.late_cancellation_hours) == ("Your photo ID and your insurance card.", 48)

    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    patient.blood_thinners.clear()
    esi = ProcedureType.objects.get(code="ESI_IL")
    okafor = Physician.objects.get(user__username="okafor")
    order = ProcedureOrder.objects.create(patient=patient, procedure_type=esi, region="lumbar",
                                          ordering_physician=okafor)
    visit = services.appointment_book(patient=patient, procedure_type=esi, order=order, physician=okafor,
                                      start=local(NEXT_MONDAY, 9))
    desk = visitor("order-link", width)
    sign_in(desk, front_desk)
    desk.page.goto("/admin/scheduling/procedureorder/")
    # The list says the order is booked, and when, before anyone sends its link.
    expect(desk.page.locator(f'tr:has(input[name="_selected_action"][value="{order.pk}"]) td.field-booked_for')
           ).to_have_text("Mon 2026-11-30 09:00 CST")
    if width == "desktop":  # in sight beside the sidebar and the filters, not behind a sideways scroll
        cell = desk.page.locator("td.field-booked_for").first.bounding_box()
        results = desk.page.locator(".results").bounding_box()
        assert cell["x"] + cell["width"] <= results["x"] + results["width"], (cell, results)
    photograph(desk, "order-list")
    desk.page.locator(f'input[name="_selected_action"][value="{order.pk}"]').check()
    desk.page.locator('select[name="action"]').select_option("send_booking_link")
    desk.page.get_by_role("button", name="Go").click()
    message = desk.page.locator(".messagelist .warning")
    expect(message).to_contain_text("already booked for Mon 2026-11-30 09:00 CST")
    expect(message.get_by_role("link")).to_have_attribute("href", f"/admin/scheduling/appointment/{visit.pk}/change/")
    photograph(desk, "order-link-not-sent")
