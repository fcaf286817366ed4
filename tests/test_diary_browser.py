"""The patient's pain diary in a real browser (Chromium) at a phone's and a desktop's widths, in
English and Spanish, and the diary on the visit's admin page where a nurse confirms the
outcome. Every page is held to axe-core (nothing serious or critical) and photographed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.models import Outcome, OutcomeSource, PainDiary
from scheduling.reminders.links import path
from scheduling.services.diary import diary_entry_record
from tests.browser import SCREENSHOTS, STAFF_WIDTHS, WIDTHS, sign_in
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENDED = local(NEXT_MONDAY, 9, 20)
WORDS = {
    "en": {"title": "Your pain diary", "now": "How is your pain now?", "memory": "Add it from memory",
           "saved": "Thank you: your pain is saved.", "late": "late", "note": "Anything else about your pain",
           "save_note": "Save my note", "best": "Your best relief was 88%."},
    "es": {"title": "Su diario del dolor", "now": "¿Cómo está su dolor ahora?", "memory": "Anotarlo de memoria",
           "saved": "Gracias: guardamos su dolor.", "late": "tarde", "note": "Algo más sobre su dolor",
           "save_note": "Guardar mi nota", "best": "Su mayor alivio fue del 88%."},
}


def at(minutes: int) -> dt.datetime:
    return ENDED + dt.timedelta(minutes=minutes)


@pytest.fixture
def block(calendar):
    """Dr. Okafor's lumbar block at 09:00 on Monday, pain 8 at check-in, ended at 09:20, the
    30-minute question answered (pain 1), the 1-hour one missed; the clock then runs from
    11:25, when the 2-hour question is due."""
    with time_machine.travel(NOW, tick=False):
        patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="email").order_by("pk").first()
        patient.blood_thinners.clear()
        mbb = ProcedureType.objects.get(code="MBB_LUMBAR")
        calendar.order_for(patient, mbb)
        visit = services.appointment_book(patient=patient, procedure_type=mbb, physician=calendar.okafor,
                                          start=local(NEXT_MONDAY, 9))
    with time_machine.travel(local(NEXT_MONDAY, 8, 30), tick=False):
        services.appointment_check_in(appointment=visit, baseline_pain=8)
        services.appointment_start(appointment=visit, reason="Checks recorded on paper")
    with time_machine.travel(ENDED, tick=False):
        services.appointment_move_to_recovery(appointment=visit)
    with time_machine.travel(local(NEXT_MONDAY, 9, 50), tick=False):
        services.appointment_complete(appointment=visit)
        diary_entry_record(appointment=visit, pain=1, prompt=30, now=at(30))
    with time_machine.travel(at(125), tick=True):
        yield visit


@pytest.mark.parametrize("language", WORDS)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_patient_fills_the_diary_from_the_link(visitor, block, width, language):
    words = WORDS[language]
    you = visitor(f"diary-{language}", width)
    page = you.page
    page.goto(path(block, "diary"))
    if language == "es":
        page.select_option("#language", "es")
        page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["title"])
    due = page.locator(".due")
    expect(due.get_by_role("heading")).to_have_text(words["now"])
    expect(due.get_by_role("button")).to_have_count(11)
    box = due.get_by_role("button", name="2", exact=True).bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # large enough for a thumb
    you.check("due")

    due.get_by_role("button", name="2", exact=True).click()
    expect(page.locator(".alert")).to_have_text(words["saved"])
    page.locator("summary", has_text=words["memory"]).click()
    you.check("from-memory")
    page.locator("details[open] .scale").get_by_role("button", name="1", exact=True).click()
    expect(page.locator(".alert")).to_have_text(words["saved"])
    expect(page.locator("#answers .tag")).to_have_text(words["late"])
    page.get_by_label(words["note"]).fill("Sore at the needle site.")
    page.get_by_role("button", name=words["save_note"]).click()
    expect(page.locator("#relief svg")).to_be_visible()
    expect(page.locator("#chart-desc")).to_contain_text(words["best"])
    you.check("chart")

    diary = PainDiary.objects.get(appointment=block)
    assert {(e.prompt_minutes, e.pain, e.late) for e in diary.entries.all()} == {(30, 1, False), (60, 1, True),
                                                                                 (120, 2, False)}
    assert diary.note == "Sore at the needle site."
    # Nothing wider than the screen: the chart and the buttons fit a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]


@pytest.mark.parametrize("width", WIDTHS)
def test_before_and_after_its_window_the_page_says_so(visitor, block, width):
    you = visitor("diary-window", width)
    page = you.page
    with time_machine.travel(at(24 * 60 + 5), tick=True):
        page.goto(path(block, "diary"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Your pain diary is closed")
        expect(page.locator("main")).to_contain_text("(918) 555-0140")
        you.check("closed")


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_a_nurse_sees_the_diary_and_confirms_its_outcome(visitor, block, nurse, width):
    for minutes, pain in ((60, 1), (120, 2)):
        diary_entry_record(appointment=block, pain=pain, prompt=minutes, now=at(minutes))
    you = visitor("diary-admin", width)
    sign_in(you, nurse)
    page = you.page
    page.goto(f"/admin/scheduling/appointment/{block.pk}/change/")
    panel = page.locator(".diary-panel")
    expect(panel).to_contain_text("peak relief 88%")
    expect(panel.locator("svg")).to_be_visible()
    you.check("panel")
    if width == "desktop":
        # The panel on a phone, for a look (the admin's own inlines do not pass axe at 390 px).
        page.set_viewport_size(WIDTHS["phone"])
        panel.screenshot(path=SCREENSHOTS / "diary-admin-phone-panel.png")
        page.set_viewport_size(WIDTHS["desktop"])
        panel.screenshot(path=SCREENSHOTS / "diary-admin-desktop-panel.png")
    page.get_by_role("link", name="Confirm outcome…").click()
    expect(page.get_by_label("Relief (%)")).to_have_value("88")
    you.check("confirm")
    page.get_by_role("button", name="Confirm outcome").click()
    expect(page.locator(".messagelist")).to_contain_text("Outcome confirmed from the patient's pain diary.")
    outcome = Outcome.objects.get(appointment=block)
    assert (outcome.relief_percent, outcome.source, outcome.recorded_by) == (88, OutcomeSource.PATIENT_DIARY, nurse)


@pytest.fixture
def booked_block(calendar):
    with time_machine.travel(NOW, tick=False):
        patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="email").order_by("pk").first()
        patient.blood_thinners.clear()
        mbb = ProcedureType.objects.get(code="MBB_LUMBAR")
        calendar.order_for(patient, mbb)
        visit = services.appointment_book(patient=patient, procedure_type=mbb, physician=calendar.okafor,
                                          start=local(NEXT_MONDAY, 9))
    with time_machine.travel(local(NEXT_MONDAY, 8, 40), tick=True):
        yield visit


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_check_in_asks_the_pain_before_a_block(visitor, booked_block, nurse, width):
    you = visitor("diary-check-in", width)
    sign_in(you, nurse)
    page = you.page
    page.goto(f"/admin/board/visit/{booked_block.pk}/check-in/")
    field = page.get_by_label("Pain now, before the procedure (0-10)")
    field.fill("7")
    you.check("check-in")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator(".messagelist")).to_contain_text("checked in")
    diary = PainDiary.objects.get(appointment=booked_block)
    assert (diary.baseline_pain, diary.baseline_source) == (7, "check_in")
