"""The front desk records a procedure the patient had at another clinic, in a real browser at a
desktop's and a phone's width: on the patient's page, then in the list of its own. Each page is
held to axe-core and the Content-Security-Policy, and photographed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from clinic.models import Patient
from scheduling.models import ProcedureElsewhere
from tests.browser import sign_in
from tests.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_front_desk_records_a_procedure_done_elsewhere(visitor, front_desk, width):
    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    you = visitor("procedures-elsewhere", width)
    sign_in(you, front_desk)
    page = you.page

    page.goto(f"/admin/clinic/patient/{patient.pk}/change/")
    page.get_by_role("button", name="Add another Procedure done elsewhere").click()
    row = page.locator("#procedures_elsewhere-0")
    row.get_by_label("Procedure").select_option(label="Transforaminal epidural steroid injection (ESI_TF)")
    row.get_by_label("Date").fill("2026-10-05")
    row.get_by_label("Region").select_option(label="Lumbar")
    row.get_by_label("Laterality").select_option(label="Left")
    row.get_by_label("Relief (%)").fill("60")
    row.get_by_label("Where").fill("Tulsa Spine Center")
    row.get_by_label("Document reference").fill("scan-4471")
    you.check("patient-page-adding")

    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    past = page.locator(".patient-overview", has=page.locator("#past-visits"))
    expect(past).to_contain_text("Done at Tulsa Spine Center")
    expect(past).to_contain_text("60% relief")
    past.get_by_role("heading", name="Past visits and procedures done elsewhere").scroll_into_view_if_needed()
    you.check("patient-page-recorded")
    outside = ProcedureElsewhere.objects.get(patient=patient)
    assert (outside.day, outside.relief_percent, outside.recorded_by_id) == (dt.date(2026, 10, 5), 60, front_desk.pk)

    page.goto("/admin/scheduling/procedureelsewhere/")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Tulsa Spine Center")
    you.check("list")

    page.locator("#result_list").get_by_role("link", name=str(patient)).click()
    expect(page.get_by_role("textbox", name="Where:")).to_have_value("Tulsa Spine Center")
    you.check("change-page")
