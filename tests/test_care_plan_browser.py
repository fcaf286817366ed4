"""The care plan in a real browser: the patient's visit page at a phone's width, in English and in
Spanish, and the physician's needs-attention entry, each held to axe-core and the CSP."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from clinic import roles
from clinic.models import Patient, Payer, Physician
from scheduling.models import CarePlanTemplate, PlanStatus
from scheduling.reminders.links import path
from scheduling.services.careplans import plan_create
from tests.browser import SCREENSHOTS, sign_in
from tests.careplans import book_step, relief, take_through
from tests.conftest import NEXT_MONDAY, NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def okafor() -> SimpleNamespace:
    """What `book_step` asks of the calendar fixture (the browser tests run on a flushed database)."""
    return SimpleNamespace(okafor=Physician.objects.get(user__username="okafor"))


def facet_plan(payer: str, first_name: str):
    patient = Patient.objects.create(first_name=first_name, last_name="Plan", date_of_birth=dt.date(1958, 4, 2),
                                     email=f"{first_name.lower()}.plan@example.com", email_consent=True,
                                     payer=Payer.objects.get(name=payer))
    return plan_create(patient=patient, physician=okafor().okafor,
                       template=CarePlanTemplate.objects.get(name="Lumbar facet pathway"))


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_visit_page_shows_the_plan_at_a_phones_width(visitor, demo_clinic, language):
    plan = facet_plan("Self-pay", "Rosa")
    visit = book_step(okafor(), plan, 1, NEXT_MONDAY)
    person = visitor(f"care-plan-{language}", "phone")
    person.page.goto(path(visit, "manage"))
    if language == "es":
        person.page.select_option("#language", "es")
        person.page.locator("header form button").click()
    card = person.page.locator(".card.plan")
    expect(card).to_contain_text("Su plan de atención" if language == "es" else "Your care plan")
    expect(card).to_contain_text("al menos 7 días después de esta visita" if language == "es"
                                 else "at least 7 days after this visit")
    card.scroll_into_view_if_needed()
    card.screenshot(path=SCREENSHOTS / f"care-plan-{language}-phone-section.png")
    person.check("visit-page-with-plan")


def test_the_physician_sees_the_stopped_plan_on_needs_attention(visitor, demo_clinic, clinic_clock):
    plan = facet_plan("Medicare", "Earl")
    visit = book_step(okafor(), plan, 1, NEXT_MONDAY)
    nurse = get_user_model().objects.create_user("nurse-browser", password="pw-for-tests-only", is_staff=True)
    nurse.groups.add(Group.objects.get(name=roles.NURSE))
    take_through(visit, clinic_clock, by=nurse)
    relief(visit, 60, by=nurse)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NEEDS_DECISION
    physician = okafor().okafor.user
    physician.groups.add(Group.objects.get(name=roles.PHYSICIAN))
    person = visitor("care-plan-attention", "desktop")
    sign_in(person, physician)
    person.page.goto("/admin/board/attention/")
    entry = person.page.locator(f"#plan-{plan.pk}")
    expect(entry).to_contain_text("Earl Plan")
    expect(entry).to_contain_text("gave 60% relief; Medicare asks for 80%.")
    person.page.locator(".plans").screenshot(path=SCREENSHOTS / "care-plan-attention-entry.png")
    person.check("needs-attention")
    entry.get_by_role("link", name="Earl Plan").click()
    expect(person.page.locator(".careplan-decisions")).to_contain_text("Repeat step 1")
    person.check("plan-decisions")
