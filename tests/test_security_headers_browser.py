"""The Content-Security-Policy in a real browser (Chromium): the staff's admin and the API docs
work under it with nothing blocked (each `check` fails on a violation Chromium reports), and an
order link whose visit has moved since shows the visit without any way to change it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from clinic.models import Patient, Physician, ProcedureType
from scheduling import services
from scheduling.models import ProcedureOrder
from scheduling.reminders.links import link, order_link
from tests.browser import SCREENSHOTS, STAFF_WIDTHS, WIDTHS, sign_in
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_the_admin_and_the_api_docs_run_under_the_policy(visitor, superuser, width, settings):
    settings.API_DOCS_PUBLIC = False
    you = visitor("csp-staff", width)
    page = you.page
    page.goto("/api/docs/")
    expect(page).to_have_url("/admin/login/?next=/api/docs/")  # the docs are for staff
    you.check("docs-login")
    sign_in(you, superuser)

    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Clinic administration")).to_be_visible()
    you.check("admin-index")
    page.goto("/admin/scheduling/appointment/add/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # The empty patient picker (Django's Select2) is held to axe-core where the front desk's
    # booking is (test_patient_admin_browser.py); here only the policy is checked.
    photograph_under_the_policy(you, "admin-book")
    patient = Patient.objects.order_by("pk").first()
    page.goto(f"/admin/clinic/patient/{patient.pk}/change/")
    expect(page.get_by_role("heading", level=2, name=re.compile(patient.last_name))).to_be_visible()
    you.check("admin-patient")

    page.goto("/api/docs/")
    # Swagger UI draws the operations only if its scripts ran.
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Interval API")
    # Photographed, not held to axe-core: Swagger UI's markup is not ours to fix.
    photograph_under_the_policy(you, "api-docs")


def photograph_under_the_policy(you, step: str) -> None:
    you.steps += 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    you.page.screenshot(path=SCREENSHOTS / f"{you.name}-{you.steps:02d}-{step}.png")
    assert not you.csp_violations, f"{step}: the Content-Security-Policy blocked:\n" + "\n".join(you.csp_violations)


@pytest.fixture
def moved_order(demo_clinic) -> tuple[ProcedureOrder, str]:
    """An order booked, then moved: the order and the visit's old manage link."""
    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    patient.blood_thinners.clear()
    order = ProcedureOrder.objects.create(
        patient=patient, procedure_type=ProcedureType.objects.get(code="ESI_IL"),
        ordering_physician=Physician.objects.get(user__username="okafor"), region="lumbar",
        authorization_status="approved", authorization_number="PA-1001",
        authorization_valid_from=dt.date(2026, 11, 1), authorization_valid_until=dt.date(2027, 4, 30))
    visit = services.appointment_book(patient=patient, procedure_type=order.procedure_type,
                                      physician=order.ordering_physician, start=local(NEXT_MONDAY, 9), order=order)
    old_link = link(visit, "manage")
    services.appointment_reschedule(appointment=visit, start=local(NEXT_MONDAY, 11))
    return order, old_link


@pytest.mark.parametrize("width", WIDTHS)
def test_an_old_order_link_shows_the_moved_visit_and_points_to_the_latest_message(visitor, moved_order, width):
    order, old_link = moved_order
    you = visitor("order-link-after-move", width)
    page = you.page
    page.goto(old_link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    page.goto(order_link(order))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your procedure is booked")
    expect(page.locator("main")).to_contain_text("11:00 AM")
    expect(page.locator("main")).to_contain_text("use the link in your latest message")
    expect(page.locator("main").get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("link", name="Cancel the visit")).to_have_count(0)
    you.check("order-link-booked")
