"""The patient's pain diary after a diagnostic block, with the clock frozen: prompted by the
reminders, filled in through the signed link, summed up, proposed as the block's outcome and
confirmed by a nurse or physician as patient-reported."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.errors import BookingError
from scheduling.models import BaselineSource, Outcome, OutcomeSource, PainDiary, ReminderStatus
from scheduling.pathways.eligibility import patient_history
from scheduling.reminders.links import link, make_token
from scheduling.reminders.messages import render
from scheduling.services.diary import DiaryClosed, diary_baseline_record, diary_entry_record
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db

ENDED = local(NEXT_MONDAY, 9, 20)  # the block really ends 20 minutes after its 09:00 start


def patient_by(channel: str) -> Patient:
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel=channel).order_by("pk").first()
    patient.blood_thinners.clear()
    return patient


@pytest.fixture
def block(calendar):
    patient = patient_by("email")
    mbb = ProcedureType.objects.get(code="MBB_LUMBAR")
    calendar.order_for(patient, mbb)
    return services.appointment_book(patient=patient, procedure_type=mbb, physician=calendar.okafor,
                                     start=local(NEXT_MONDAY, 9))


def to_recovery(block, clock, *, baseline=8):
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    services.appointment_check_in(appointment=block, baseline_pain=baseline)
    services.appointment_start(appointment=block, reason="Checks recorded on paper")
    clock.move_to(ENDED)
    services.appointment_move_to_recovery(appointment=block)


def diary_path(appointment) -> str:
    return link(appointment, "diary").removeprefix("http://127.0.0.1:8000")


def at(minutes: int) -> dt.datetime:
    return ENDED + dt.timedelta(minutes=minutes)


# ---- Prompts and link ------------------------------------------------------------------------

def test_the_prompts_are_30_minutes_then_hourly_to_6_hours_from_the_procedures_real_end(block, clock):
    planned = [r.due_at - block.procedure_end for r in block.reminders.filter(kind="pain_diary")]
    assert planned == [dt.timedelta(minutes=m) for m in (30, 60, 120, 180, 240, 300, 360)]
    to_recovery(block, clock)
    pending = block.reminders.filter(kind="pain_diary", status=ReminderStatus.PENDING).order_by("due_at")
    assert [r.due_at for r in pending] == [at(m) for m in (30, 60, 120, 180, 240, 300, 360)]
    assert PainDiary.objects.get(appointment=block).procedure_ended_at == ENDED


def test_every_pain_diary_message_carries_the_diary_link_and_no_patient_data(block, clock):
    to_recovery(block, clock)
    for reminder in block.reminders.filter(kind="pain_diary", status=ReminderStatus.PENDING):
        message = render(reminder)
        assert link(block, "diary") in message.body and link(block, "diary") in message.html
        assert "medial branch" not in message.body.lower() and "block" not in message.body.lower()
    url = link(block, "diary")
    assert block.patient.last_name not in url and block.patient.email not in url
    assert url.split("/visit/")[1].split(":")[0] == str(block.pk)


def test_a_link_for_another_purpose_or_a_forged_one_does_not_open_the_diary(client, block, clock):
    to_recovery(block, clock)
    clock.move_to(at(30))
    assert client.get(f"/visit/{make_token(block, 'diary')}/diary/").status_code == 200
    for token in (make_token(block, "manage"), make_token(block, "diary")[:-2] + "xx", "12345"):
        page = client.get(f"/visit/{token}/diary/")
        assert page.status_code == 410 and 'name="pain"' not in page.content.decode()


# ---- The page --------------------------------------------------------------------------------

def test_before_the_procedures_end_the_page_says_when_it_opens(client, block):
    page = client.get(diary_path(block))
    body = page.content.decode()
    assert page.status_code == 200 and "opens after your procedure" in body
    assert "Monday, November 30" in body and "9:20 AM" in body  # the planned end
    assert 'name="pain"' not in body
    client.post(diary_path(block), {"record": "entry", "pain": "3", "prompt": "30"})
    assert not PainDiary.objects.filter(appointment=block).exists()


def test_the_diary_is_filled_through_the_link(client, block, clock):
    to_recovery(block, clock)
    url = diary_path(block)
    clock.move_to(at(25))  # the 30-minute question opens 10 minutes early
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "How is your pain now?" in body and "8 out of 10" in body and "You told us at check-in" in body
    assert body.count('name="pain"') == 11 * body.count("scale-form")
    client.post(url, {"record": "entry", "pain": "1", "prompt": "30"})
    clock.move_to(at(60))
    client.post(url, {"record": "entry", "pain": "1", "prompt": "60"})
    clock.move_to(at(190))  # the 2-hour question missed; the 3-hour one due
    page = client.get(url).content.decode()
    assert "Not answered" in page and "Add it from memory" in page
    client.post(url, {"record": "entry", "pain": "2", "prompt": "180"})
    client.post(url, {"record": "entry", "pain": "1", "prompt": "120"})  # from memory, 70 minutes after
    clock.move_to(at(245))
    client.post(url, {"record": "entry", "pain": "5", "prompt": "240"})
    client.post(url, {"record": "note", "note": "Sore at the needle site tonight."})
    diary = PainDiary.objects.get(appointment=block)
    entries = {entry.prompt_minutes: (entry.pain, entry.late) for entry in diary.entries.all()}
    assert entries == {30: (1, False), 60: (1, False), 120: (1, True), 180: (2, False), 240: (5, False)}
    assert diary.note == "Sore at the needle site tonight."
    page = client.get(url).content.decode()
    assert "<svg" in page and "Your best relief was 88%." in page and "late" in page
    assert "Your best relief so far: 88%." in page


def test_a_question_not_open_yet_is_refused(block, clock):
    to_recovery(block, clock)
    clock.move_to(at(45))
    with pytest.raises(DiaryClosed):
        diary_entry_record(appointment=block, pain=3, prompt=120, now=at(45))
    with pytest.raises(BookingError, match="no such question"):
        diary_entry_record(appointment=block, pain=3, prompt=47, now=at(45))  # no such prompt


def test_pain_outside_0_to_10_is_refused_with_a_plain_message(client, block, clock):
    to_recovery(block, clock)
    clock.move_to(at(30))
    response = client.post(diary_path(block), {"record": "entry", "pain": "11", "prompt": "30"}, follow=True)
    assert "Please press a number from 0 to 10." in response.content.decode()
    response = client.post(diary_path(block), {"record": "entry", "pain": "3", "prompt": "x"}, follow=True)
    assert response.status_code == 200
    assert not PainDiary.objects.get(appointment=block).entries.exists()


def test_the_baseline_is_asked_on_the_page_when_the_desk_did_not(client, block, clock):
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    services.appointment_check_in(appointment=block)
    services.appointment_start(appointment=block, reason="Checks recorded on paper")
    clock.move_to(ENDED)
    services.appointment_move_to_recovery(appointment=block)
    clock.move_to(at(30))
    page = client.get(diary_path(block)).content.decode()
    assert "How bad was your pain before the procedure?" in page
    assert "Tell us your pain before the procedure to see your relief here." in page
    client.post(diary_path(block), {"record": "baseline", "pain": "6"})
    diary = PainDiary.objects.get(appointment=block)
    assert (diary.baseline_pain, diary.baseline_source) == (6, BaselineSource.PAGE)


def test_the_page_cannot_replace_the_baseline_asked_at_check_in(block, clock):
    to_recovery(block, clock, baseline=7)
    with pytest.raises(DiaryClosed):
        diary_baseline_record(appointment=block, pain=2, source=BaselineSource.PAGE, now=at(30))


def test_the_link_closes_24_hours_after_the_procedure_with_the_clinics_phone(client, block, clock):
    to_recovery(block, clock)
    clock.move_to(at(24 * 60 - 1))
    assert client.get(diary_path(block)).status_code == 200
    clock.move_to(at(24 * 60))
    page = client.get(diary_path(block))
    body = page.content.decode()
    assert page.status_code == 410 and "Your pain diary is closed" in body and "(918) 555-0140" in body
    with pytest.raises(DiaryClosed):
        diary_entry_record(appointment=block, pain=3, prompt=None, now=at(24 * 60))


def test_a_cancelled_visit_has_no_diary_to_fill(client, block):
    services.appointment_cancel(appointment=block, reason="Patient has the flu")
    page = client.get(diary_path(block))
    assert page.status_code == 410 and "did not take place" in page.content.decode()


def test_the_diary_form_needs_its_security_cookie(block, clock):
    to_recovery(block, clock)
    clock.move_to(at(30))
    response = Client(enforce_csrf_checks=True).post(diary_path(block), {"record": "entry", "pain": "3",
                                                                         "prompt": "30"})
    assert response.status_code == 403
    assert not PainDiary.objects.get(appointment=block).entries.exists()


def test_spanish_speakers_get_the_page_in_spanish(client, block, clock):
    to_recovery(block, clock)
    clock.move_to(at(30))
    page = client.get(diary_path(block), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Su diario del dolor" in page and "¿Cómo está su dolor ahora?" in page


# ---- Outcome proposed and confirmed ------------------------------------------------------------

def fill(block, clock, pains: dict[int, int]):
    for minutes, pain in pains.items():
        clock.move_to(at(minutes))
        diary_entry_record(appointment=block, pain=pain, prompt=minutes, now=at(minutes))


def complete(block, clock):
    clock.move_to(local(NEXT_MONDAY, 9, 50))
    services.appointment_complete(appointment=block)


def test_a_nurse_confirms_the_proposed_outcome_as_patient_reported(client, block, clock, nurse):
    to_recovery(block, clock, baseline=8)
    complete(block, clock)
    fill(block, clock, {30: 1, 60: 1, 120: 1, 180: 2, 240: 5, 300: 7, 360: 8})
    client.force_login(nurse)
    change = client.get(reverse("admin:scheduling_appointment_change", args=[block.pk])).content.decode()
    confirm_url = reverse("admin:scheduling_appointment_diary_confirm", args=[block.pk])
    assert "pain diary" in change.lower() and "<svg" in change and confirm_url in change
    assert "peak relief 88%" in change
    page = client.get(confirm_url).content.decode()
    assert 'value="88"' in page and 'value="8"' in page
    response = client.post(confirm_url, {"pain_before": 8, "pain_after": 1, "relief_percent": 88,
                                         "relief_duration_hours": 4, "notes": "Diary reviewed with the patient."})
    assert response.status_code == 302
    outcome = Outcome.objects.get(appointment=block)
    assert (outcome.relief_percent, outcome.relief_duration_hours, outcome.source, outcome.recorded_by) == (
        88, 4, OutcomeSource.PATIENT_DIARY, nurse)
    # The page tells the patient their diary was reviewed and takes no more answers.
    clock.move_to(at(400))
    patient_page = Client().get(diary_path(block)).content.decode()
    assert "Your care team has reviewed your diary" in patient_page and 'name="pain"' not in patient_page
    with pytest.raises(DiaryClosed):
        diary_entry_record(appointment=block, pain=3, prompt=None, now=at(400))


def test_the_rules_count_the_confirmed_outcome_not_the_proposal(block, clock, physician_user):
    to_recovery(block, clock, baseline=10)
    complete(block, clock)
    fill(block, clock, {30: 4, 60: 3})  # proposed: 70% peak relief

    def relief_counted():
        return next(past.relief_percent for past in patient_history(block.patient) if past.appointment_id == block.pk)

    assert relief_counted() is None  # a proposal is not an outcome
    client = Client()
    client.force_login(physician_user)
    client.post(reverse("admin:scheduling_appointment_diary_confirm", args=[block.pk]),
                {"pain_before": 10, "pain_after": 3, "relief_percent": 75, "relief_duration_hours": 1})
    assert relief_counted() == 75  # the physician's corrected figure
    assert Outcome.objects.get(appointment=block).source == OutcomeSource.PATIENT_DIARY


def test_front_desk_cannot_confirm_an_outcome(client, block, clock, front_desk):
    to_recovery(block, clock)
    complete(block, clock)
    fill(block, clock, {30: 1})
    client.force_login(front_desk)
    url = reverse("admin:scheduling_appointment_diary_confirm", args=[block.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"pain_before": 8, "pain_after": 1, "relief_percent": 88}).status_code == 403
    assert not Outcome.objects.filter(appointment=block).exists()
    change = client.get(reverse("admin:scheduling_appointment_change", args=[block.pk])).content.decode()
    assert url not in change


def test_an_outcome_is_confirmed_only_for_a_completed_visit(client, block, clock, nurse):
    to_recovery(block, clock)
    fill(block, clock, {30: 1})
    client.force_login(nurse)
    url = reverse("admin:scheduling_appointment_diary_confirm", args=[block.pk])
    response = client.post(url, {"pain_before": 8, "pain_after": 1, "relief_percent": 88}, follow=True)
    assert "Outcomes are recorded for completed visits" in response.content.decode()
    assert not Outcome.objects.filter(appointment=block).exists()


def test_outcomes_typed_by_staff_are_staff_entered(block, clock):
    to_recovery(block, clock)
    complete(block, clock)
    outcome = services.outcome_record(appointment=block, pain_before=8, pain_after=2)
    assert outcome.source == OutcomeSource.STAFF


# ---- Check-in --------------------------------------------------------------------------------

def test_check_in_asks_the_baseline_pain_for_a_procedure_with_a_diary(client, block, clock, nurse):
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    client.force_login(nurse)
    url = reverse("board:visit-check-in", args=[block.pk])
    page = client.get(url).content.decode()
    assert "Pain now, before the procedure (0-10)" in page
    client.post(url, {"baseline_pain": "7"})
    block.refresh_from_db()
    diary = PainDiary.objects.get(appointment=block)
    assert block.status == "checked_in" and (diary.baseline_pain, diary.baseline_source) == (7, "check_in")
    assert client.post(url, {"baseline_pain": "12"}).status_code == 200  # the form again, with its error
    assert PainDiary.objects.get(appointment=block).baseline_pain == 7


def test_check_in_of_a_procedure_without_a_diary_does_not_ask(client, calendar, clock, nurse):
    patient = patient_by("email")
    calendar.order_for(patient, calendar.esi)
    esi = services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                    start=local(NEXT_MONDAY, 9))
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    client.force_login(nurse)
    assert "Pain now, before the procedure" not in client.get(
        reverse("board:visit-check-in", args=[esi.pk])).content.decode()


def test_an_answer_more_than_30_minutes_after_its_prompt_is_late(block, clock):
    to_recovery(block, clock)
    on_time = diary_entry_record(appointment=block, pain=2, prompt=60, now=at(60 + 30))
    late = diary_entry_record(appointment=block, pain=2, prompt=120, now=at(120 + 31))
    assert (on_time.late, late.late) == (False, True)
    corrected = diary_entry_record(appointment=block, pain=3, prompt=60, now=at(60 + 32))
    assert corrected.pk == on_time.pk and (corrected.pain, corrected.late) == (3, True)


def test_after_the_last_prompt_the_patient_can_still_add_their_pain(client, block, clock):
    to_recovery(block, clock)
    fill(block, clock, {360: 2})
    clock.move_to(at(9 * 60))
    page = client.get(diary_path(block)).content.decode()
    assert "My pain has changed: add it now" in page and "How is your pain now?" not in page
    client.post(diary_path(block), {"record": "entry", "pain": "6", "prompt": ""})
    entry = PainDiary.objects.get(appointment=block).entries.get(prompt_minutes=None)
    assert (entry.pain, entry.late, entry.recorded_at) == (6, False, at(9 * 60))
    assert "your own entry" in client.get(diary_path(block)).content.decode()


def test_once_the_outcome_is_confirmed_no_more_diary_prompts_go_out(block, clock, nurse):
    to_recovery(block, clock, baseline=8)
    complete(block, clock)
    fill(block, clock, {30: 1, 60: 1})
    services.outcome_record(appointment=block, pain_before=8, pain_after=1, by=nurse,
                            source=OutcomeSource.PATIENT_DIARY)
    later = block.reminders.filter(kind="pain_diary", due_at__gt=at(60))
    assert later.exists() and not later.filter(status=ReminderStatus.PENDING).exists()
    assert later.filter(last_error__contains="the outcome is recorded").exists()


def test_a_note_with_line_breaks_counts_each_break_once(client, block, clock):
    from scheduling.services.diary import NOTE_MAX_LENGTH, diary_note_record

    to_recovery(block, clock)
    clock.move_to(at(40))
    line = "x" * 70
    note = "\r\n".join([line] * 14)  # what a browser sends: CR LF
    assert len(note.replace("\r\n", "\n")) <= NOTE_MAX_LENGTH < len(note) + 14
    diary = diary_note_record(appointment=block, note=note, now=at(40))
    assert diary.note == "\n".join([line] * 14)
