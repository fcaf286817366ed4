"""The arrivals desk and the day sheet in a real browser (Chromium) at the front desk's and a
desktop's widths: the front desk checks a patient in and records the checks, a nurse starts a
procedure and moves the patient to recovery, and the day sheet prints on Letter and A4. Every
page is held to axe-core (nothing serious or critical) and photographed."""

from __future__ import annotations

import re

import pytest
import time_machine
from playwright.sync_api import expect

from scheduling import services
from clinic.models import BloodThinner, ProcedureType
from scheduling.models import AppointmentStatus, PreProcedureCheck
from scheduling.pathways.checks import checks_needed
from tests.browser import SCREENSHOTS, STAFF_WIDTHS, sign_in
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.test_booking_services import book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ON_THE_DAY = local(NEXT_MONDAY, 8, 40)
DESK = f"/admin/board/arrivals/?date={NEXT_MONDAY.isoformat()}"
PDFS = SCREENSHOTS.parent / "pdf"


@pytest.fixture
def day(calendar):
    """Monday: Dr. Okafor's sympathetic block under sedation at 09:00 for a patient on warfarin
    (fasting, driver, blood thinner and consent to check) and an ESI at 10:00 (consent), Dr.
    Reyes's consultation at 13:00 (nothing). The clock then moves to 08:40 that day, and runs:
    the live server answers in real seconds."""
    for patient in calendar.patients[:3]:
        patient.blood_thinners.clear()
    calendar.patients[0].blood_thinners.set([BloodThinner.objects.get(name__iexact="warfarin")])
    sympathetic = ProcedureType.objects.get(code="SYMPATHETIC_BLOCK")
    visits = [
        book(calendar, patient=calendar.patients[0], procedure_type=sympathetic, start=local(NEXT_MONDAY, 9)),
        book(calendar, patient=calendar.patients[1], start=local(NEXT_MONDAY, 10)),
        book(calendar, patient=calendar.patients[2], procedure_type=calendar.consult, physician=calendar.reyes,
             start=local(NEXT_MONDAY, 13)),
    ]
    with time_machine.travel(ON_THE_DAY, tick=True):
        yield visits


@pytest.fixture
def calendar(calendar):  # noqa: F811  (the suite's calendar, booked at NOW with the clock still)
    with time_machine.travel(NOW, tick=False):
        yield calendar


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_the_front_desk_checks_a_patient_in_and_records_the_checks(visitor, front_desk, day, width):
    first = day[0]
    you = visitor("arrivals-check-in", width)
    sign_in(you, front_desk)
    page = you.page
    page.goto(DESK)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Arrivals")
    row = page.locator(f"#visit-{first.pk}")
    expect(row.locator(".status-badge")).to_have_text("Late")  # due at 08:30, and it is 08:40
    you.check("desk")

    row.get_by_role("link", name="Check in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check in")
    expect(page.locator(".check-row")).to_have_count(4)
    for label in ("Fasting confirmed", "Driver present", "Blood thinner stopped", "Consent form signed"):
        page.get_by_label(re.compile(f"^{label}")).check()
    you.check("checks")
    page.get_by_role("button", name="Check in").click()

    expect(page.locator(".messagelist")).to_contain_text(f"{first.patient.full_name}: checked in.")
    expect(page.locator(f"#visit-{first.pk} .status-badge")).to_have_text("Checked in")
    expect(page.locator(f"#visit-{first.pk} .check-done")).to_have_count(4)
    you.check("checked-in")
    checks = PreProcedureCheck.objects.filter(appointment=first).order_by("pk")
    assert [(check.kind, check.confirmed_by) for check in checks] == [
        (kind, front_desk) for kind in ("fasting", "driver", "blood_thinner", "consent")]
    assert all(check.confirmed_at for check in checks)


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_a_nurse_starts_a_procedure_and_moves_the_patient_to_recovery(visitor, nurse, day, width):
    first, second, _ = day
    services.appointment_check_in(appointment=first, confirmed_checks=[need.kind for need in checks_needed(first)])
    services.appointment_check_in(appointment=second)  # the consent form is not confirmed
    you = visitor("arrivals-nurse", width)
    sign_in(you, nurse)
    page = you.page
    page.goto(DESK)
    you.check("desk")

    page.locator(f"#visit-{first.pk}").get_by_role("button", name="Start procedure").click()
    expect(page.locator(f"#visit-{first.pk} .status-badge")).to_have_text("In procedure")
    page.locator(f"#visit-{first.pk}").get_by_role("button", name="To recovery").click()
    expect(page.locator(f"#visit-{first.pk} .status-badge")).to_have_text("In recovery")
    you.check("in-recovery")

    # The second patient's consent is not confirmed: starting asks why, and keeps the answer.
    row = page.locator(f"#visit-{second.pk}")
    row.locator("summary", has_text="Start procedure").click()
    row.get_by_label("Why start without the checks").fill("Consent signed at the hospital, copy on file")
    you.check("start-asks-why")
    row.locator("form button", has_text="Start procedure").click()
    expect(page.locator(f"#visit-{second.pk} .status-badge")).to_have_text("In procedure")
    you.check("started-without-checks")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (AppointmentStatus.IN_RECOVERY, AppointmentStatus.IN_PROCEDURE)
    assert PreProcedureCheck.objects.get(appointment=second).missing_reason.startswith("Consent signed at")


def test_the_day_sheet_prints_on_letter_and_a4(visitor, front_desk, day, calendar):
    you = visitor("day-sheet", "desktop")
    sign_in(you, front_desk)
    page = you.page
    page.goto(f"/admin/board/print/?date={NEXT_MONDAY.isoformat()}")
    expect(page.locator("section.sheet h1")).to_have_count(2)  # Dr. Okafor's and Dr. Reyes's
    you.check("screen")
    page.emulate_media(media="print")
    expect(page.locator(".toolbar")).to_be_hidden()
    you.check("print-media")
    # The width left inside 12 mm margins: Letter 192 mm, A4 186 mm (96 px to the inch).
    for paper, width in (("letter", 726), ("a4", 703)):
        page.set_viewport_size({"width": width, "height": 1000})
        you.check(f"print-{paper}-width")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"the sheet is wider than {paper}"
    PDFS.mkdir(parents=True, exist_ok=True)
    for paper in ("Letter", "A4"):
        pdf = page.pdf(path=PDFS / f"day-sheet-{paper.lower()}.pdf", format=paper, print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages == 2, f"{paper}: {pages} pages; each physician's sheet should start a page"
    page.emulate_media(media="screen")
    page.goto(f"/admin/board/print/?date={NEXT_MONDAY.isoformat()}&room={day[0].room_id}")
    expect(page.locator("section.sheet h1")).to_contain_text(day[0].room.name)
    you.check("one-room")
