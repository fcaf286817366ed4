"""The demo clinic's visits: a past in which every pathway can be shown, and a live day board."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import transaction

from clinic.models import Patient, ProcedureType
from scheduling.models import Appointment, AppointmentStatus, ProcedureOrder, Reminder, ReminderStatus, RuleKind
from scheduling.pathways.eligibility import check_eligibility
from scheduling.selectors import day_visits
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

TODAY = NOW.date()


@pytest.fixture(scope="module")
def _seeded(django_db_setup, django_db_blocker):
    """Seed the visits once for this module, inside a transaction rolled back at its end; each
    test runs in a savepoint of it (seeding takes seconds)."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = io.StringIO()
        with time_machine.travel(NOW, tick=False):
            call_command("seed_demo", stdout=output)
        yield output.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def activity(_seeded, db, clock):
    return _seeded


def counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()
            if model._meta.app_label in {"clinic", "scheduling", "auth"}}


def patient(first: str, last: str) -> Patient:
    return Patient.objects.get(first_name=first, last_name=last)


def eligibility(person: Patient, code: str):
    procedure_type = ProcedureType.objects.get(code=code)
    order = ProcedureOrder.objects.get(patient=person, procedure_type=procedure_type, status="open")
    return check_eligibility(patient=person, procedure_type=procedure_type, order=order, day=TODAY)


def test_the_rfa_patient_had_two_qualifying_blocks_and_is_eligible_for_rfa(activity):
    harlan = patient("Harlan", "Pruitt")
    blocks = Appointment.objects.filter(patient=harlan, procedure_type__code="MBB_LUMBAR", status="completed")
    assert len(blocks) == 2 and all(block.procedure_start < NOW for block in blocks)
    assert sorted(block.outcome.relief_percent for block in blocks) == [86, 88]
    # Each confirmed from the patient's pain diary: 7 answers, relief at 50% or more for 6 hours.
    assert all(block.outcome.source == "patient_diary" and block.outcome.relief_duration_hours == 6
               and block.pain_diary.entries.count() == 7 for block in blocks)
    assert eligibility(harlan, "RFA_LUMBAR").eligible


def test_the_scs_patient_had_a_successful_trial_and_is_eligible_for_the_implant(activity):
    loretta = patient("Loretta", "Haines")
    trial = Appointment.objects.get(patient=loretta, procedure_type__code="SCS_TRIAL")
    assert trial.status == "completed" and trial.outcome.relief_percent >= 50 and trial.order.psych_evaluation_date
    removal = trial.follow_ups.get()
    assert removal.procedure_type.code == "SCS_TRIAL_REMOVAL" and removal.status == "completed"
    assert eligibility(loretta, "SCS_IMPLANT").eligible


def test_the_esi_patient_is_refused_a_repeat_for_low_relief(activity):
    dolores = patient("Dolores", "Vance")
    last = Appointment.objects.get(patient=dolores, procedure_type__code="ESI_IL", status="completed")
    assert last.outcome.relief_percent < 50
    refused = eligibility(dolores, "ESI_IL")
    assert [item.kind for item in refused.unmet] == [RuleKind.REPEAT_RELIEF]
    assert f"gave {last.outcome.relief_percent}%" in refused.unmet[0].message


def test_the_patient_with_a_block_done_elsewhere_is_eligible_for_rfa(activity):
    wilma = patient("Wilma", "Dorsey")
    assert Appointment.objects.filter(patient=wilma, procedure_type__code="MBB_LUMBAR", status="completed").count() == 1
    outside = wilma.procedures_elsewhere.get()
    assert outside.is_documented and outside.day < TODAY
    assert eligibility(wilma, "RFA_LUMBAR").eligible
    outside.document_reference = ""
    outside.save()
    assert not eligibility(wilma, "RFA_LUMBAR").eligible


def test_todays_board_at_eight_has_the_morning_under_way_and_nothing_before_its_time(activity):
    """Every status is on the day once its times have passed (tests/test_demo_activity_clock.py
    seeds at 06:00 and 13:00); at 08:00 the first visits are under way and none is ahead of the clock."""
    location = Appointment.objects.filter(patient__last_name="Oakes").get().location
    visits = list(day_visits(location=location, day=TODAY, include_cancelled=True))
    statuses = {visit.status for visit in visits}
    assert {AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED, AppointmentStatus.CANCELLED} <= statuses
    assert statuses & {AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROCEDURE, AppointmentStatus.NO_SHOW}
    due = {"checked_in": "arrival", "no_show": "arrival", "in_procedure": "procedure_start",
           "in_recovery": "procedure_end", "completed": "discharge"}
    assert all(getattr(visit, due[visit.status]) <= NOW for visit in visits if visit.status in due)


def test_the_coming_days_have_visits_and_one_hold_told_too_late(activity):
    from scheduling.pathways.holds import holds_told_too_late

    coming = Appointment.objects.filter(procedure_start__date__gt=TODAY, patient__last_name__in=[
        "Barrow", "Moody", "Castellanos", "Quaid", "Pike", "Harrow"])
    assert coming.count() == 6
    pike = coming.get(patient__last_name="Pike")
    assert [hold.drug for hold in holds_told_too_late(pike)] == ["Warfarin"]


def test_no_stale_reminder_waits_to_go_out_when_the_demo_starts(activity):
    assert not Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lt=NOW).exists()
    assert Reminder.objects.filter(status=ReminderStatus.SENT, appointment__procedure_start__lt=NOW).exists()


def test_a_second_run_adds_nothing(activity, clock):
    before = counts()
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    assert counts() == before
    assert "demo patients with visits: 0 created, 21 already there" in output.getvalue()


def test_a_second_run_on_a_later_day_adds_nothing_and_keeps_what_staff_did(activity, clock):
    from scheduling import services

    visit = Appointment.objects.get(patient__last_name="Achebe")
    services.appointment_cancel(appointment=visit, reason="Called to cancel")
    before = counts()
    clock.shift(7 * 24 * 3600)
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == before
    visit.refresh_from_db()
    assert visit.status == "cancelled"


def test_the_first_run_says_what_it_seeded(activity):
    assert "demo patients with visits: 21 created, 0 already there" in activity
    assert "demo visits:" in activity


def test_two_care_plans_are_under_way_one_ready_and_one_waiting_for_the_physician(activity):
    from scheduling.models import CarePlan, PlanStatus, StepStatus

    ruth = CarePlan.objects.get(patient=patient("Ruth", "Calloway"))
    assert ruth.status == PlanStatus.ACTIVE
    assert list(ruth.steps.order_by("position").values_list("status", flat=True)) == [
        StepStatus.DONE, StepStatus.READY, StepStatus.PLANNED, StepStatus.PLANNED]
    walter = CarePlan.objects.get(patient=patient("Walter", "Brandt"))
    assert walter.status == PlanStatus.NEEDS_DECISION
    assert "50% relief; Medicare asks for 80%" in walter.steps.get(position=2).status_note


def test_the_demos_texts_sent_before_now_carry_delivery_reports_some_undelivered(activity):
    texts = Reminder.objects.filter(status=ReminderStatus.SENT, channel="sms")
    assert texts.exists() and not texts.filter(delivery_status="").exists()
    undelivered = texts.filter(delivery_status="undelivered")
    assert list(undelivered.values_list("kind", "delivery_error_code")) == [("confirmation_request", "30003")]
    assert texts.filter(delivery_status="delivered").count() > undelivered.count()
