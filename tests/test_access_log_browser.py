"""The clinic manager reads the access log in a real browser at the staff's widths: who opened
which patient's page, filtered by user. The list is held to axe-core and photographed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clinic.models import Patient
from tests.browser import STAFF_WIDTHS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_the_manager_sees_who_opened_a_patients_page(visitor, front_desk, manager, width):
    patient = Patient.objects.order_by("pk")[3]
    desk = visitor("access-log-desk", width)
    sign_in(desk, front_desk)
    desk.page.goto(f"/admin/clinic/patient/{patient.pk}/change/")

    you = visitor("access-log", width)
    sign_in(you, manager)
    page = you.page
    page.goto("/admin/clinic/patientaccess/")
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text(front_desk.username)
    expect(row).to_contain_text(patient.last_name)
    expect(row).to_contain_text(f"/admin/clinic/patient/{patient.pk}/change/")
    expect(page.get_by_role("link", name="Add patient record access")).to_have_count(0)
    you.check("list")
