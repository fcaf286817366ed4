"""The appointment admin at the staff's widths: the object tools never sit on the page's title, and
the appointment list's columns fit beside the sidebar and the filters without a sideways scroll."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.management import call_command

from scheduling.models import Appointment
from tests.browser import SCREENSHOTS, STAFF_WIDTHS, sign_in
from tests.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def visits(demo_clinic, clinic_clock):
    """The demo's visits: a list long enough, with every column filled."""
    call_command("seed_demo", stdout=io.StringIO())


def _overlaps(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def _assert_tools_clear_of(page, title_selector: str) -> None:
    titles = [page.locator(title_selector).first.bounding_box()]
    if page.locator("#content > h2").count():
        titles.append(page.locator("#content > h2").first.bounding_box())
    tools = [li.bounding_box() for li in page.locator(".object-tools li").all()]
    assert tools, "the page shows its object tools"
    for tool in tools:
        for title in titles:
            assert not _overlaps(tool, title), (tool, title)


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_the_object_tools_sit_clear_of_the_title_on_an_appointments_page_and_the_list(
        visitor, front_desk, width):
    visit = Appointment.objects.filter(status="scheduled").order_by("procedure_start").first()
    you = visitor("admin-layout", width)
    sign_in(you, front_desk)
    page = you.page

    page.goto(f"/admin/scheduling/appointment/{visit.pk}/change/")
    _assert_tools_clear_of(page, "#content > h1")
    you.check("appointment-page")

    page.goto("/admin/scheduling/appointment/")
    _assert_tools_clear_of(page, "#content > h1")
    you.check("appointment-list")


def test_the_appointment_lists_columns_fit_at_1280_px(visitor, front_desk):
    you = visitor("admin-layout", "desktop")
    sign_in(you, front_desk)
    page = you.page
    page.goto("/admin/scheduling/appointment/")
    page.screenshot(path="tests/artifacts/admin-layout-list-1280.png", full_page=True)
    scroll, client = page.locator(".results").evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll <= client, f"the list scrolls sideways: {scroll} px of columns in {client} px"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_page_outside_a_role_says_so_in_the_admins_frame(visitor, front_desk, width):
    you = visitor("admin-no-access", width)
    sign_in(you, front_desk)
    page = you.page
    response = page.goto("/admin/scheduling/calendarfeed/")
    assert response.status == 403
    assert "does not have access to this page" in page.locator("#content-main").inner_text()
    you.check("calendar-feeds-refused")
    page.get_by_role("link", name="Back to the admin's start page").click()
    assert page.url.endswith("/admin/")


def test_a_visits_pre_procedure_checks_line_up_with_its_other_values(visitor, front_desk):
    from scheduling.pathways.checks import visit_checks

    visit = next(visit for visit in Appointment.objects.order_by("procedure_start") if visit_checks(visit).needed)
    you = visitor("admin-layout", "desktop")
    sign_in(you, front_desk)
    page = you.page
    page.goto(f"/admin/scheduling/appointment/{visit.pk}/change/")
    checks = page.locator(".field-pre_procedure_checks div.readonly")
    notes = page.locator(".field-messages_to_patient div.readonly")
    assert abs(checks.locator("ul").bounding_box()["x"] - notes.bounding_box()["x"]) < 2
    you.check("appointment-checks")


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_the_start_pages_today_box_reads_each_link_on_one_line(visitor, front_desk, width):
    you = visitor("admin-start", width)
    sign_in(you, front_desk)
    page = you.page
    page.goto("/admin/")
    links = page.locator("#today-module th a").all()
    assert len(links) == 5
    for link in links:  # a link broken over lines has a box for each line
        assert link.evaluate("a => a.getClientRects().length") == 1, link.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    you.check("start-page")


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_a_physicians_weekly_schedule_never_widens_the_page(visitor, manager, width):
    from clinic.models import Physician

    physician = Physician.objects.get(user__username="okafor")
    you = visitor("physician-page", width)
    sign_in(you, manager)
    page = you.page
    page.goto(f"/admin/clinic/physician/{physician.pk}/change/")
    assert page.locator(".field-start_time input").first.input_value() == "07:30"  # hours and minutes
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # the inline scrolls itself
    # A screenshot only: axe flags the stock markup of Django's tabular inline (inputs labelled
    # by their column's header) and of its two-box picker on this page.
    page.screenshot(path=SCREENSHOTS / f"physician-page-{width}.png", full_page=True)
