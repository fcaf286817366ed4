"""A care plan's page and the patient's care-plan section in a real browser, at desktop and phone
widths: photographed, held to axe-core and the Content-Security-Policy; the timeline's Send the
booking link button posts its own form, not the plan's."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import expect

from clinic.models import Patient, Physician
from scheduling.models import CarePlanTemplate, Reminder, ReminderKind
from scheduling.services.careplans import plan_create
from tests.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def plans(demo_clinic):
    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    okafor = Physician.objects.get(user__username="okafor")
    facet = plan_create(patient=patient, physician=okafor, template=CarePlanTemplate.objects.get(
        name="Lumbar facet pathway"), notes="Axial low back pain, facet-mediated on exam.")
    plan_create(patient=patient, physician=okafor, template=CarePlanTemplate.objects.get(
        name="Spinal cord stimulation"))
    return patient, facet


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_plans_timeline_and_the_patients_plans_read_at_every_width(visitor, physician_user, plans, width):
    patient, facet = plans
    you = visitor("care-plan", width)
    from tests.browser import sign_in

    sign_in(you, physician_user)
    page = you.page
    page.goto(f"/admin/scheduling/careplan/{facet.pk}/change/")
    timeline = page.locator(".careplan-timeline")
    expect(timeline.get_by_role("heading", name="Proposed timeline")).to_be_visible()
    expect(timeline).to_contain_text("Wed 25 Nov 2026")
    expect(timeline.get_by_role("link", name="Book")).to_be_visible()
    you.check("plan-page")

    page.goto(f"/admin/clinic/patient/{patient.pk}/change/")
    section = page.locator(".care-plans")
    expect(section.get_by_role("heading", name="Care plans")).to_be_visible()
    expect(section).to_contain_text("Lumbar facet pathway")
    expect(section).to_contain_text("Spinal cord stimulation")
    section.scroll_into_view_if_needed()
    you.check("patient-care-plans")


def test_the_timelines_send_button_queues_the_link_and_enter_in_a_field_still_saves(visitor, front_desk,
                                                                                   physician_user, plans):
    patient, facet = plans
    you = visitor("care-plan-send", "desktop")
    from tests.browser import sign_in

    sign_in(you, front_desk)
    page = you.page
    page.goto(f"/admin/scheduling/careplan/{facet.pk}/change/")
    page.get_by_role("button", name="Send the booking link").click()
    expect(page.locator(".messagelist")).to_contain_text("The booking link will go out within a minute.")
    timeline = page.locator(".careplan-timeline")
    expect(timeline).to_contain_text("Link queued Tue 24 Nov")
    expect(timeline.get_by_role("button", name="Send again")).to_be_visible()
    expect(timeline).to_contain_text("Goes ahead when: relief from step 1")
    you.check("link-queued")
    first = facet.steps.get(position=1)
    assert Reminder.objects.filter(order=first.order, kind=ReminderKind.ORDER_BOOKING_LINK).count() == 1

    you2 = visitor("care-plan-save", "desktop")
    sign_in(you2, physician_user)
    you2.page.goto(f"/admin/scheduling/careplan/{facet.pk}/change/")
    you2.page.locator("#id_name").fill("Facet pathway, both sides")
    you2.page.locator("#id_name").press("Enter")
    expect(you2.page.locator(".messagelist")).to_contain_text("was changed successfully")
    facet.refresh_from_db()
    assert facet.name == "Facet pathway, both sides"
    assert Reminder.objects.filter(order=first.order, kind=ReminderKind.ORDER_BOOKING_LINK).count() == 1
