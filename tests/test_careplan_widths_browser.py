"""The care-plan pages fit their screen: Needs attention with a stopped plan at a phone's width, and
the care-plan template and plan pages (their steps' table, the decision beside its buttons) at a
desktop's, a laptop's and a phone's width. Photographed, held to axe-core and the Content-Security-Policy."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from clinic import roles
from clinic.models import Patient, Physician
from scheduling.models import CarePlanTemplate, PlanStatus
from scheduling.services.careplans import plan_create
from tests.browser import sign_in
from tests.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = ("Stopped at step 2 (Lumbar medial branch block (diagnostic), bilateral): the first block gave 60% relief; "
        "Medicare asks for 80%.")


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def stopped(demo_clinic):
    okafor = Physician.objects.get(user__username="okafor")
    okafor.user.groups.add(Group.objects.get(name=roles.PHYSICIAN))
    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    plan = plan_create(patient=patient, physician=okafor, template=CarePlanTemplate.objects.get(
        name="Lumbar facet pathway"))
    plan.status, plan.status_note = PlanStatus.NEEDS_DECISION, NOTE
    plan.save()
    return plan


def fits(you) -> None:
    widths = you.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{you.page.url}: the page is {widths[0]} px wide in a {widths[1]} px window"
    if widths[1] >= 1280 and you.page.locator("#steps-group").count():  # a desktop: the steps' table fits its box
        box = you.page.evaluate("(b => [b.scrollWidth, b.clientWidth])(document.querySelector('#steps-group fieldset'))")
        assert box[0] <= box[1], f"{you.page.url}: the steps' table is {box[0]} px wide in a {box[1]} px box"


def test_needs_attention_with_a_stopped_plan_fits_a_phone(visitor, stopped):
    you = visitor("attention-plans", "phone")
    sign_in(you, stopped.physician.user)
    you.page.goto("/admin/board/attention/")
    expect(you.page.locator(f"#plan-{stopped.pk}")).to_contain_text("Medicare asks for 80%.")
    fits(you)
    you.check("attention")


@pytest.mark.parametrize("width", ["desktop", "laptop", "phone"])
def test_the_care_plan_pages_fit_the_screen(visitor, stopped, manager, width):
    template = CarePlanTemplate.objects.get(name="Lumbar facet pathway")
    you = visitor("careplan-widths", width)
    sign_in(you, manager)
    you.page.goto(f"/admin/scheduling/careplantemplate/{template.pk}/change/")
    expect(you.page.get_by_role("columnheader", name="Step", exact=True)).to_be_visible()
    you.check("template")
    fits(you)

    physician = visitor("careplan-widths-plan", width)
    sign_in(physician, stopped.physician.user)
    physician.page.goto(f"/admin/scheduling/careplan/{stopped.pk}/change/")
    expect(physician.page.get_by_text("Medicare asks for 80%.").first).to_be_visible()
    physician.check("plan")
    fits(physician)
    # The decision's words end above its buttons: none overlaps them.
    words_bottom = physician.page.evaluate("""() => {
        const cell = document.querySelector('.field-decisions .readonly');
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            if (walker.currentNode.textContent.includes('Medicare asks')) {
                const range = document.createRange(); range.selectNodeContents(walker.currentNode);
                return range.getBoundingClientRect().bottom;
            }
        }
        return null;
    }""")
    tops = physician.page.eval_on_selector_all(".careplan-decisions .button",
                                               "buttons => buttons.map(b => b.getBoundingClientRect().top)")
    assert words_bottom is not None and tops, "the decision and its buttons are shown"
    assert min(tops) >= words_bottom, f"a button (top {min(tops)}) overlaps the decision's words (bottom {words_bottom})"


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_my_day_names_the_plans_waiting_and_leads_to_them(visitor, stopped, width):
    you = visitor("my-day-plans", width)
    sign_in(you, stopped.physician.user)
    you.page.goto("/admin/board/my-day/")
    you.page.get_by_role("link", name="1 care plan waits for your decision").click()
    expect(you.page.locator(f"#plan-{stopped.pk}")).to_contain_text("Medicare asks for 80%.")
    you.page.go_back()
    you.check("my-day")
    fits(you)
