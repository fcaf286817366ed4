"""The day board in Chromium at the staff's widths (1280 and 1024 px): a busy day held to
axe-core (nothing serious or critical) and photographed, a visit opened from its block, the
physician lanes toggled, and the same without JavaScript."""

from __future__ import annotations

import re

import pytest
import time_machine
from playwright.sync_api import expect

from clinic.models import BloodThinner, Patient, Physician, ProcedureType, Room
from scheduling import services
from scheduling.models import PreProcedureCheck, ProcedureOrder
from tests.browser import STAFF_WIDTHS, sign_in
from tests.conftest import NOW, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TODAY = NOW.date()  # Tuesday: Dr. Reyes works procedures 07:30-15:30, Dr. Okafor clinic 08:00-16:00


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def busy_day(demo_clinic, front_desk):
    """Today: Dr. Reyes flips between the two fluoroscopy suites, Dr. Okafor sees patients in
    the exam rooms; visits in every status the morning can have, some with flags."""
    reyes = Physician.objects.get(user__username="reyes")
    okafor = Physician.objects.get(user__username="okafor")
    mbb, esi = ProcedureType.objects.get(code="MBB_LUMBAR"), ProcedureType.objects.get(code="ESI_IL")
    follow_up = ProcedureType.objects.get(code="FOLLOW_UP")
    suites = [Room.objects.get(name="Fluoro Suite 1"), Room.objects.get(name="Fluoro Suite 2")]
    patients = list(Patient.objects.order_by("pk")[:14])
    visits = []
    with time_machine.travel(NOW.replace(hour=6), tick=False):
        for number, (hour, minute) in enumerate([(7, 30), (8, 0), (8, 30), (9, 0), (9, 30), (10, 0), (11, 0),
                                                 (11, 30), (13, 0), (14, 0)]):
            procedure_type = esi if number % 3 == 0 else mbb
            patient = patients[number]
            order = ProcedureOrder.objects.create(patient=patient, procedure_type=procedure_type,
                                                  ordering_physician=okafor, region="lumbar",
                                                  authorization_status="approved", authorization_number="PA-1")
            visits.append(services.appointment_book(patient=patient, procedure_type=procedure_type, physician=reyes,
                                                    start=local(TODAY, hour, minute), room=suites[number % 2],
                                                    order=order))
        for number, hour in enumerate([8, 9, 10, 13]):
            visits.append(services.appointment_book(patient=patients[10 + number], procedure_type=follow_up,
                                                    physician=okafor, start=local(TODAY, hour)))
    first, second, third, fourth = visits[:4]
    for visit in (first, second, third):
        services.appointment_check_in(appointment=visit, by=front_desk)
    services.appointment_start(appointment=first, by=front_desk, reason="Checked in the room")
    services.appointment_move_to_recovery(appointment=first, by=front_desk)
    services.appointment_start(appointment=second, by=front_desk, reason="Checked in the room")
    services.appointment_confirm(appointment=visits[5], by=front_desk)
    services.appointment_cancel(appointment=visits[6], by=front_desk, reason="Snow on the roads")
    patients[4].needs_review = True
    patients[4].save()
    patients[7].blood_thinners.add(BloodThinner.objects.get(name__istartswith="warfarin"))
    return visits


@pytest.mark.parametrize("width", list(STAFF_WIDTHS))
def test_the_board_of_a_busy_day_reads_well_and_opens_a_visit(visitor, front_desk, busy_day, width):
    you = visitor("board", width)
    sign_in(you, front_desk)
    page = you.page
    page.goto("/admin/")
    you.check("admin-index")
    page.locator("#today-module").get_by_role("link", name="Day board").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Day board")
    suite = page.locator(f"#room-{busy_day[0].room_id}")
    expect(suite.get_by_role("link", name=re.compile(rf"^{busy_day[0].patient.full_name}, ESI_IL"))).to_be_visible()
    expect(page.locator("#recovery")).to_contain_text("of 4 bays")
    you.check("day")

    page.evaluate("window.__marker = 1")
    block = page.get_by_role("link", name=re.compile(rf"^{busy_day[4].patient.full_name}, "))
    block.locator("rect.procedure").click()  # the block's label may run past it; its box is what people click
    panel = page.locator("#visit-panel")
    expect(panel).to_contain_text(busy_day[4].patient.date_of_birth.isoformat())
    expect(panel).to_contain_text("Patient needs front-desk review")
    expect(panel.locator("summary", has_text="Cancel")).to_be_visible()  # its reason opens under it
    expect(page).to_have_url(re.compile(rf"visit={busy_day[4].pk}"))
    assert page.evaluate("window.__marker") == 1, "the visit was opened by a reload, not in place"
    you.check("visit")

    page.get_by_role("link", name="Physician lanes").click()
    reyes = page.locator(f"#physician-{busy_day[0].physician_id}")
    expect(reyes).to_contain_text("Fluoro Suite 1")
    expect(reyes).to_contain_text("Fluoro Suite 2")
    you.check("physician-lanes")

    page.get_by_role("link", name="Procedures and recovery").click()
    expect(page.locator("#column-in_recovery").locator("xpath=..")).to_contain_text(busy_day[0].patient.full_name)
    you.check("recovery")


@pytest.mark.parametrize("width", list(STAFF_WIDTHS))
def test_a_physicians_day_reads_well(visitor, busy_day, width):
    you = visitor("my-day", width)
    sign_in(you, busy_day[0].physician.user)
    page = you.page
    page.goto("/admin/board/my-day/")
    expect(page.locator(".my-day-title")).to_contain_text("Dr. Daniel Reyes: 9 visits")
    you.check("my-day")


def test_the_board_refreshes_itself_when_a_colleague_changes_the_day(visitor, front_desk, busy_day):
    you = visitor("board-refresh", "desktop")
    sign_in(you, front_desk)
    page = you.page
    page.goto("/admin/board/")
    visit = busy_day[9]
    block = page.get_by_role("link", name=re.compile(rf"^{visit.patient.full_name}, "))
    expect(block).to_have_accessible_name(re.compile(r"Scheduled"))
    services.appointment_confirm(appointment=visit, by=front_desk)
    # Coming back to the tab asks at once whether the day changed.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.get_by_role("link", name=re.compile(rf"^{visit.patient.full_name}, ")).first) \
        .to_have_accessible_name(re.compile(r"Confirmed"), timeout=8000)


def test_the_board_works_without_javascript(visitor, front_desk, busy_day):
    you = visitor("board-no-js", "laptop", javascript=False)
    sign_in(you, front_desk)
    page = you.page
    page.goto("/admin/board/")
    page.get_by_role("link", name="Next day").click()
    expect(page).to_have_url(re.compile(r"date=2026-11-25"))
    page.get_by_role("link", name="Previous day").click()
    page.get_by_role("link", name=re.compile(rf"^{busy_day[3].patient.full_name}, ")).locator("rect.procedure").click()
    expect(page.locator("#visit-panel")).to_contain_text(busy_day[3].patient.full_name)
    you.check("visit")
    page.get_by_label("Show cancelled visits").check()
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name=re.compile(rf"^{busy_day[6].patient.full_name}, .*Cancelled"))).to_be_visible()
    you.check("cancelled")


@pytest.mark.parametrize("width", list(STAFF_WIDTHS))
def test_the_front_desk_checks_a_patient_in_from_the_board_and_records_the_checks(
        visitor, front_desk, busy_day, width):
    fourth = busy_day[3]  # an epidural at 09:00, arriving 08:30, not yet here
    you = visitor("board-check-in", width)
    sign_in(you, front_desk)
    page = you.page
    page.goto("/admin/board/")
    page.get_by_role("link", name=re.compile(rf"^{fourth.patient.full_name}, ")).first.locator("rect.procedure").click()
    panel = page.locator("#visit-panel")
    expect(panel).to_contain_text(fourth.patient.date_of_birth.isoformat())
    panel.get_by_role("link", name=re.compile("^Check in")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check in")
    for box in page.locator(".check-row input[type=checkbox]").all():
        box.check()
    you.check("board-checks")
    page.get_by_role("button", name="Check in").click()

    expect(page.locator(".messagelist")).to_contain_text(f"{fourth.patient.full_name}: checked in.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Day board")  # back where the desk started
    expect(page.get_by_role("link", name=re.compile(rf"^{fourth.patient.full_name}, ")).first) \
        .to_have_accessible_name(re.compile("Checked in"))
    you.check("board-checked-in")
    checks = PreProcedureCheck.objects.filter(appointment=fourth)
    assert checks.exists() and all(check.confirmed_by == front_desk and check.confirmed_at for check in checks)


@pytest.mark.parametrize("width", list(STAFF_WIDTHS))
def test_a_nurse_moves_a_visit_to_recovery_and_sees_the_recovery_lane_change(visitor, nurse, busy_day, width):
    second = busy_day[1]  # in procedure since 08:00, planned to end 08:20
    you = visitor("board-recovery", width)
    sign_in(you, nurse)
    page = you.page
    page.goto(f"/admin/board/?visit={second.pk}")
    recovery = page.locator("#recovery .recovery-now")
    expect(recovery).to_have_text("now 1 of 4 in recovery")
    bays = page.locator("#recovery rect.bay-load title")
    assert "08:00: 1 / 4" in bays.all_text_contents()  # the patient taken to recovery at 07:50
    page.locator("#visit-panel").get_by_role("button", name="To recovery").click()

    expect(recovery).to_have_text("now 2 of 4 in recovery")
    expect(page.get_by_role("link", name=re.compile(rf"^{second.patient.full_name}, ")).first) \
        .to_have_accessible_name(re.compile("In recovery"))
    # Taken to recovery before its planned end (08:20), the patient holds a bay from now.
    assert "08:00: 2 / 4" in bays.all_text_contents()
    you.check("board-in-recovery")
    second.refresh_from_db()
    assert second.status == "in_recovery"
