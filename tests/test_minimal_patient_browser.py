"""A patient created through the API without consent to messages, as the front desk sees them
at the staff's widths: flagged in the patient list, on their page and on their visit's page.
Each page is held to axe-core and photographed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from clinic.models import Patient, Physician, ProcedureType
from scheduling import services
from scheduling.models import ProcedureOrder
from tests.browser import SCREENSHOTS, STAFF_WIDTHS, sign_in
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def visit(demo_clinic):
    patient = Patient.objects.create(first_name="Dolores", last_name="Whitehorse", date_of_birth=dt.date(1952, 7, 19),
                                     email="dolores@example.com", phone="(918) 555-0190")
    esi = ProcedureType.objects.get(code="ESI_IL")
    okafor = Physician.objects.get(user__username="okafor")
    ProcedureOrder.objects.create(patient=patient, procedure_type=esi, ordering_physician=okafor, region="lumbar",
                                  authorization_status="approved", authorization_number="PA-3003",
                                  authorization_valid_from=dt.date(2026, 11, 1),
                                  authorization_valid_until=dt.date(2027, 4, 30))
    return services.appointment_book(patient=patient, procedure_type=esi, physician=okafor,
                                     start=local(NEXT_MONDAY, 9))


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_the_front_desk_sees_a_patient_without_consent_flagged_everywhere(visitor, front_desk, visit, width):
    you = visitor("no-consent", width)
    sign_in(you, front_desk)
    page = you.page

    page.goto("/admin/clinic/patient/?contact=none")
    row = page.locator("#result_list tbody tr", has_text="Whitehorse")
    expect(row.locator(".no-consent-flag")).to_have_text("No consent to contact")
    # Photographed only: Django's own search box on every change list fails two axe rules (an
    # icon-only label, an underline-less "total" link), which no page here adds or changes.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"no-consent-{width}-00-patient-list.png", full_page=True)

    row.get_by_role("link", name="Whitehorse").click()
    expect(page.locator(".no-consent")).to_contain_text("until their consent is recorded below")
    you.check("patient-page")

    page.goto(f"/admin/scheduling/appointment/{visit.pk}/change/")
    expect(page.locator(".field-messages_to_patient .no-consent-flag")).to_be_visible()
    you.check("visit-page")
