"""Reminders: plans with the clock frozen, the outbox written with each booking, dispatch."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from clinic.models import BloodThinner, Patient, ProcedureFamily, ProcedureType
from scheduling import services
from scheduling.models import AttemptOutcome, Reminder, ReminderKind, ReminderStatus
from scheduling.reminders import dispatch, links
from scheduling.reminders.outbox import REPLANNED, channel_for
from scheduling.reminders.plan import Step, Visit, outside_quiet_hours, plan
from scheduling.reminders.transports import MemorySMSTransport, TransportError
from tests.conftest import NEXT_MONDAY, NOW, local

CHICAGO = ZoneInfo("America/Chicago")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "reminders"


# ---- Plans, on plain data ------------------------------------------------------------------------

def visit(day=NEXT_MONDAY, hour=9, holds=None) -> Visit:
    start = local(day, hour)
    return Visit(booked_at=NOW, arrival=start - dt.timedelta(minutes=30), start=start,
                 discharge=start + dt.timedelta(minutes=50), zone=CHICAGO, hold_last_doses=holds or {})


PLAN = [
    Step("booking_confirmation", "booked"),
    Step("confirmation_request", "days_before", days=2, at_time=dt.time(10)),
    Step("preparation", "days_before", days=1, at_time=dt.time(17)),
    Step("arrival", "before_arrival", minutes=120),
    Step("blood_thinner_hold", "hold_start", at_time=dt.time(9)),
    Step("pain_diary", "after_discharge", minutes=60),
    Step("post_procedure_check_in", "days_after", days=1, at_time=dt.time(10)),
]


def dues(planned) -> dict[str, str]:
    return {item.kind: item.due_at.astimezone(CHICAGO).strftime("%m-%d %H:%M") for item in planned}


def test_every_step_of_a_plan_by_email():
    planned = plan(PLAN, visit(holds={"Warfarin": dt.date(2026, 11, 24)}), sms=False, now=NOW)
    assert dues(planned) == {
        "booking_confirmation": "11-24 08:00", "blood_thinner_hold": "11-24 09:00",
        "confirmation_request": "11-28 10:00", "preparation": "11-29 17:00", "arrival": "11-30 06:30",
        "pain_diary": "11-30 10:50", "post_procedure_check_in": "12-01 10:00",
    }
    assert next(p for p in planned if p.kind == "blood_thinner_hold").context == {
        "drug": "Warfarin", "last_dose": "2026-11-24"}


def test_diary_prompts_count_from_the_procedures_end_and_texts_skip_quiet_hours():
    start = local(NEXT_MONDAY, 15)
    late = Visit(booked_at=NOW, arrival=start - dt.timedelta(minutes=30), start=start,
                 discharge=start + dt.timedelta(minutes=50), end=start + dt.timedelta(minutes=20), zone=CHICAGO)
    steps = [Step("pain_diary", "after_procedure_end", minutes=m) for m in (30, 300, 360)]
    by_email = [item.due_at.astimezone(CHICAGO).strftime("%d %H:%M") for item in plan(steps, late, sms=False, now=NOW)]
    assert by_email == ["30 15:50", "30 20:20", "30 21:20"]
    by_text = [item.due_at.astimezone(CHICAGO).strftime("%d %H:%M") for item in plan(steps, late, sms=True, now=NOW)]
    assert by_text == ["30 15:50", "30 20:20", "01 08:00"]  # not at night: the next morning


def test_text_messages_wait_for_the_end_of_quiet_hours():
    planned = dues(plan(PLAN, visit(), sms=True, now=NOW))
    assert planned["arrival"] == "11-30 08:00"  # 06:30 is quiet; 08:00 is still before the 08:30 arrival


def test_a_text_due_in_quiet_hours_too_late_for_the_morning_goes_the_evening_before():
    arrival = local(NEXT_MONDAY, 7, 30)
    moved = outside_quiet_hours(local(NEXT_MONDAY, 5, 30), CHICAGO, deadline=arrival)
    assert moved == local(NEXT_MONDAY - dt.timedelta(days=1), 20)
    assert outside_quiet_hours(local(NEXT_MONDAY, 21, 30), CHICAGO, deadline=local(NEXT_MONDAY + dt.timedelta(days=3), 9)) \
        == local(NEXT_MONDAY + dt.timedelta(days=1), 8)


def test_reminders_already_past_are_dropped_but_the_confirmation_goes_at_once():
    planned = dues(plan(PLAN, visit(day=dt.date(2026, 11, 25)), sms=False, now=NOW))
    assert planned["booking_confirmation"] == "11-24 08:00"
    assert "confirmation_request" not in planned  # two days before was the 23rd
    assert planned["preparation"] == "11-24 17:00"


def test_day_based_steps_keep_their_wall_clock_time_across_daylight_saving():
    before = Visit(booked_at=dt.datetime(2026, 10, 20, tzinfo=CHICAGO), arrival=local(dt.date(2026, 11, 2), 8, 30),
                   start=local(dt.date(2026, 11, 2), 9), discharge=local(dt.date(2026, 11, 2), 9, 50), zone=CHICAGO)
    planned = plan([Step("confirmation_request", "days_before", days=2, at_time=dt.time(10))], before, sms=False,
                   now=dt.datetime(2026, 10, 20, tzinfo=CHICAGO))
    due = planned[0].due_at
    assert due.astimezone(CHICAGO).hour == 10 and due.astimezone(dt.timezone.utc).hour == 15  # 10:00 CDT


# ---- Templates -----------------------------------------------------------------------------------

def test_no_reminder_text_names_a_procedure_or_a_diagnosis(demo_clinic):
    words = {"injection", "epidural", "steroid", "block", "ablation", "radiofrequency", "stimulator", "spinal",
             "cord", "trial", "implant", "vertebroplasty", "kyphoplasty", "fracture", "nerve", "facet", "sedation",
             "pain clinic", "radiculopathy", "stenosis", "herniat", "sciatica", "neuropathy", "osteoporo", "lead"}
    for procedure_type in ProcedureType.objects.all():
        words |= {w.lower() for w in re.findall(r"[A-Za-z]{5,}", procedure_type.name)}
    words |= {label.lower() for _, label in ProcedureFamily.choices}
    words -= {"visit", "follow", "patient", "consultation", "removal", "office"}
    templates = sorted(TEMPLATES.glob("*.txt"))
    assert len(templates) == len(ReminderKind.choices)
    for template in templates:
        text = re.sub(r"{%.*?%}", " ", template.read_text()).lower()  # the words, not the template tags
        found = [word for word in words if re.search(rf"\b{re.escape(word)}", text)]
        assert not found, f"{template.name} mentions {found}"


# ---- The outbox, written with the booking ----------------------------------------------------------

pytestmark_db = pytest.mark.django_db


def sms_patient() -> Patient:
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    return patient


def book(calendar, patient, start=None, code="ESI_IL"):
    procedure_type = ProcedureType.objects.get(code=code)
    calendar.order_for(patient, procedure_type)
    return services.appointment_book(patient=patient, procedure_type=procedure_type, physician=calendar.okafor,
                                     start=start or local(NEXT_MONDAY, 9))


@pytest.mark.django_db
def test_a_booking_writes_its_plan_and_a_move_leaves_no_stale_reminder(calendar):
    appointment = book(calendar, sms_patient())
    pending = {r.kind: r for r in appointment.reminders.filter(status=ReminderStatus.PENDING)}
    assert set(pending) == {"booking_confirmation", "confirmation_request", "preparation", "arrival",
                            "post_procedure_check_in"}
    assert all(r.channel == "sms" for r in pending.values())
    services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY + dt.timedelta(days=2), 13))
    pending = {r.kind: r for r in appointment.reminders.filter(status=ReminderStatus.PENDING)}
    assert pending["arrival"].due_at == local(NEXT_MONDAY + dt.timedelta(days=2), 10, 30)
    assert pending["confirmation_request"].due_at == local(NEXT_MONDAY, 10)
    assert "booking_confirmation" in pending  # not yet sent: it stays due
    stale = appointment.reminders.filter(status=ReminderStatus.CANCELLED)
    assert {r.kind for r in stale} >= {"arrival", "preparation"}
    assert {r.last_error for r in stale} == {REPLANNED}  # the staff see why each was not sent


@pytest.mark.django_db
def test_cancelling_cancels_every_pending_reminder_and_tells_the_patient(calendar, sms_outbox):
    appointment = book(calendar, sms_patient())
    services.appointment_cancel(appointment=appointment, reason="Physician ill")
    pending = appointment.reminders.filter(status=ReminderStatus.PENDING)
    assert list(pending.values_list("kind", flat=True)) == ["visit_cancelled"]
    dispatch.dispatch_due(now=NOW)
    (message,) = sms_outbox
    assert "your visit on Monday November 30 at 9:00 AM is cancelled" in message.body


@pytest.mark.django_db
def test_a_visit_moved_after_its_confirmation_went_out_is_announced(calendar, sms_outbox):
    appointment = book(calendar, sms_patient())
    dispatch.dispatch_due(now=NOW)  # the confirmation goes
    services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY, 13))
    dispatch.dispatch_due(now=NOW)
    assert "your visit has moved to Monday November 30 at 1:00 PM" in sms_outbox[-1].body


@pytest.mark.django_db
def test_a_blood_thinner_hold_reminder_goes_on_the_last_dose_day(calendar):
    patient = sms_patient()
    patient.blood_thinners.set([BloodThinner.objects.get(name="Apixaban")])
    appointment = book(calendar, patient, start=local(dt.date(2026, 12, 9), 9))  # Wednesday, Dr. Okafor
    hold = appointment.reminders.get(kind="blood_thinner_hold")
    assert hold.due_at == local(dt.date(2026, 12, 5), 9)  # 3 days without a dose: 6th, 7th, 8th, and the 9th
    assert hold.context["last_dose"] == "2026-12-05"


@pytest.mark.django_db
def test_diagnostic_blocks_prompt_the_pain_diary(calendar):
    appointment = book(calendar, sms_patient(), code="MBB_LUMBAR")
    diary = appointment.reminders.filter(kind="pain_diary").order_by("due_at")
    end = appointment.procedure_end  # 30 minutes after it, then every hour to 6 hours
    assert [r.due_at - end for r in diary] == [dt.timedelta(minutes=m) for m in (30, 60, 120, 180, 240, 300, 360)]


@pytest.mark.django_db
def test_consent_and_the_preferred_channel_are_respected(demo_clinic):
    patient = Patient(first_name="A", last_name="B", date_of_birth=dt.date(1950, 1, 1), phone="(918) 555-0111",
                      email="a@example.com", preferred_channel="sms", sms_consent=False, email_consent=True)
    assert channel_for(patient) == "email"
    patient.email_consent = False
    assert channel_for(patient) is None
    patient.sms_consent = True
    assert channel_for(patient) == "sms"


# ---- Dispatch ------------------------------------------------------------------------------------

@pytest.fixture
def sms_outbox(settings):
    settings.SMS_TRANSPORT = "memory"
    MemorySMSTransport.outbox.clear()
    yield MemorySMSTransport.outbox
    MemorySMSTransport.outbox.clear()


@pytest.mark.django_db
def test_due_reminders_are_sent_once_with_the_clinic_date_time_and_phone(calendar, sms_outbox):
    appointment = book(calendar, sms_patient())
    assert dispatch.dispatch_due(now=NOW) == 1  # the booking confirmation, due at once
    (message,) = sms_outbox
    assert message.to == appointment.patient.phone
    manage_url = links.link(appointment, "manage")
    assert message.body == ("Interval Pain Center Bartlesville: your visit is booked for Monday November 30 at "
                            f"9:00 AM. Please arrive at 8:30 AM. See, confirm or change it: {manage_url} "
                            "Questions: (918) 555-0140.")
    confirmation = appointment.reminders.get(kind="booking_confirmation")
    assert confirmation.status == ReminderStatus.SENT and confirmation.attempts == 1
    assert confirmation.attempt_log.get().outcome == AttemptOutcome.SENT
    assert dispatch.dispatch_due(now=NOW) == 0  # nothing twice
    assert dispatch.dispatch_due(now=local(NEXT_MONDAY, 8)) == 3  # request, preparation, arrival
    assert len(sms_outbox) == 4


@pytest.mark.django_db
def test_a_visit_already_confirmed_gets_no_request_to_confirm_it(calendar, sms_outbox):
    appointment = book(calendar, sms_patient())
    dispatch.dispatch_due(now=NOW)  # the booking confirmation, with the link to confirm
    services.appointment_confirm(appointment=appointment)
    assert dispatch.dispatch_due(now=local(NEXT_MONDAY, 8)) == 2  # preparation, arrival
    request = appointment.reminders.get(kind="confirmation_request")
    assert request.status == ReminderStatus.CANCELLED and request.last_error == dispatch.ALREADY_CONFIRMED
    assert not any("please confirm" in message.body for message in sms_outbox)


@pytest.mark.django_db
def test_a_visit_not_confirmed_still_gets_its_request(calendar, sms_outbox):
    appointment = book(calendar, sms_patient())
    dispatch.dispatch_due(now=local(NEXT_MONDAY, 8))
    assert appointment.reminders.get(kind="confirmation_request").status == ReminderStatus.SENT
    assert any("please confirm your visit" in message.body for message in sms_outbox)


@pytest.mark.django_db
def test_a_worker_back_after_the_visit_began_sends_nothing_about_the_visit_to_come(calendar, sms_outbox):
    appointment = book(calendar, sms_patient())
    # Down since before the booking; back the afternoon of the visit: what it would have sent
    # before the visit is dropped, with the reason on the row; what follows the visit still goes.
    dispatch.dispatch_due(now=local(NEXT_MONDAY, 14))
    before = appointment.reminders.filter(kind__in=["booking_confirmation", "confirmation_request", "preparation",
                                                    "arrival"])
    assert {r.status for r in before} == {ReminderStatus.CANCELLED}
    assert {r.last_error for r in before} == {dispatch.TOO_LATE}
    assert not sms_outbox


@pytest.mark.django_db
def test_a_temporary_failure_is_retried_with_backoff_and_a_permanent_one_given_up(calendar, sms_outbox,
                                                                                  monkeypatch):
    appointment = book(calendar, sms_patient())
    failures = iter([TransportError("provider down", permanent=False), TransportError("bad number", permanent=True)])

    def failing(self, message):
        raise next(failures)

    monkeypatch.setattr(MemorySMSTransport, "send", failing)
    assert dispatch.dispatch_due(now=NOW) == 0
    confirmation = appointment.reminders.get(kind="booking_confirmation")
    assert (confirmation.status, confirmation.attempts, confirmation.last_error) == ("pending", 1, "provider down")
    assert confirmation.next_attempt_at == NOW + dt.timedelta(minutes=1)
    assert dispatch.dispatch_due(now=NOW + dt.timedelta(seconds=30)) == 0  # not yet
    dispatch.dispatch_due(now=NOW + dt.timedelta(minutes=1))
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == ("failed", 2)
    assert list(confirmation.attempt_log.values_list("outcome", flat=True)) == [
        AttemptOutcome.TEMPORARY_FAILURE, AttemptOutcome.PERMANENT_FAILURE]
    monkeypatch.undo()
    assert dispatch.reminder_retry(confirmation)
    assert dispatch.dispatch_due() == 1


@pytest.mark.django_db
def test_a_reminder_claimed_by_a_worker_that_died_is_sent_after_the_lease(calendar, sms_outbox):
    book(calendar, sms_patient())
    (claimed,) = dispatch.claim_due(now=NOW, token=uuid.uuid4())  # ... and the worker is killed before sending
    assert dispatch.dispatch_due(now=NOW + dt.timedelta(minutes=1)) == 0
    assert dispatch.dispatch_due(now=NOW + dispatch.lease() + dt.timedelta(seconds=1)) == 1
    assert Reminder.objects.get(pk=claimed).status == ReminderStatus.SENT


@pytest.mark.django_db
def test_a_claimed_reminder_of_a_visit_cancelled_meanwhile_is_not_sent(calendar, sms_outbox):
    appointment = book(calendar, sms_patient())
    token = uuid.uuid4()
    (claimed,) = dispatch.claim_due(now=NOW, token=token)
    appointment.status = "cancelled"
    appointment.save(update_fields=["status"])
    assert dispatch.send_one(claimed, token=token, now=NOW) == ReminderStatus.CANCELLED
    assert sms_outbox == []


@pytest.mark.django_db
def test_emails_go_through_djangos_mail(calendar, mailoutbox):
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="email").order_by("pk").first()
    patient.blood_thinners.clear()
    book(calendar, patient)
    assert dispatch.dispatch_due(now=NOW) == 1
    (email,) = mailoutbox
    assert email.to == [patient.email] and email.subject == "Interval Pain Center Bartlesville: Your visit is booked"
    assert email.extra_headers["X-Idempotency-Key"].startswith(f"{patient.appointments.get().pk}:")


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["CONSULT_NEW", "FOLLOW_UP", "ESI_IL", "ESI_TF", "ESI_CAUDAL", "MBB_LUMBAR",
                                  "MBB_CERVICAL", "SYMPATHETIC_BLOCK", "RFA_LUMBAR", "RFA_CERVICAL", "SCS_TRIAL",
                                  "SCS_TRIAL_REMOVAL", "SCS_IMPLANT", "VERTEBROPLASTY", "KYPHOPLASTY"])
@pytest.mark.parametrize("sms", [True, False])
def test_every_demo_plan_with_the_clock_frozen(demo_clinic, code, sms):
    from scheduling.demo import reminder_plan

    procedure_type = ProcedureType.objects.get(code=code)
    steps = [Step(kind, anchor, days, minutes, at_time) for kind, anchor, days, minutes, at_time
             in reminder_plan(procedure_type)]
    holds = {"Warfarin": dt.date(2026, 12, 4)} if procedure_type.bleeding_risk != "none" else {}
    planned = plan(steps, visit(day=dt.date(2026, 12, 10), holds=holds), sms=sms, now=NOW)
    kinds = [item.kind for item in planned]
    assert kinds[0] == "booking_confirmation" and planned[0].due_at == NOW
    assert ("blood_thinner_hold" in kinds) == (procedure_type.bleeding_risk != "none")
    assert ("pain_diary" in kinds) == (procedure_type.family == "diagnostic_block")
    assert ("trial_removal" in kinds) == (code == "SCS_TRIAL_REMOVAL")
    assert all(item.due_at >= NOW for item in planned)
    arrival = local(dt.date(2026, 12, 10), 8, 30)
    for item in planned:
        if item.kind in ("confirmation_request", "preparation", "arrival", "trial_removal"):
            assert item.due_at < arrival, item
        if sms:
            assert dt.time(8) <= item.due_at.astimezone(CHICAGO).time() < dt.time(21), item


@pytest.mark.django_db
def test_an_arrival_reminder_moved_to_the_evening_before_says_tomorrow(calendar, sms_outbox, clock):
    appointment = book(calendar, sms_patient(), start=local(NEXT_MONDAY, 7, 30))  # arrive 07:00
    arrival = appointment.reminders.get(kind="arrival")
    assert arrival.due_at == local(NEXT_MONDAY - dt.timedelta(days=1), 20)  # 05:00 is quiet; 08:00 too late
    clock.move_to(arrival.due_at)
    dispatch.dispatch_due()
    text = next(m.body for m in sms_outbox if "we expect you" in m.body)
    assert "we expect you tomorrow at 7:00 AM" in text
