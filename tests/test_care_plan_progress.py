"""Care plans advanced by outcomes, with the clock frozen: a step booked, done, judged at the next
step's gate; the next step ready and its link sent, or the plan stopped for the physician."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from scheduling import services
from scheduling.careplans.gates import GateState, gate_answer
from scheduling.careplans.steps import plan_steps, step_window
from scheduling.errors import BookingError, NotEligible
from scheduling.models import (
    AppointmentStatus,
    Gate,
    OrderStatus,
    PlanStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
    StepKind,
    StepStatus,
)
from scheduling.pathways.eligibility import check_eligibility
from scheduling.services.careplan_progress import careplan_step_mark_done
from tests.careplans import FACET, SCS, book_step, make_plan, patient_with, relief, step, take_through
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.django_db

WEDNESDAY = NEXT_MONDAY + dt.timedelta(days=2)


def link_rows(plan_step):
    return Reminder.objects.filter(order=plan_step.order, kind=ReminderKind.ORDER_BOOKING_LINK)


def statuses(plan) -> list[str]:
    return list(plan.steps.order_by("position").values_list("status", flat=True))


# ---- The facet pathway end to end ---------------------------------------------------------------

def test_the_facet_pathway_from_the_first_block_to_the_ablations(calendar, clock, nurse, front_desk):
    patient = patient_with("Self-pay")
    plan = make_plan(calendar, patient)

    # Block one is booked and done; nothing goes ahead until its relief is known.
    first = book_step(calendar, plan, 1, NEXT_MONDAY, by=front_desk)
    assert statuses(plan) == ["booked", "planned", "planned", "planned"]
    take_through(first, clock, by=nurse)
    assert step(plan, 1).status == StepStatus.DONE and step(plan, 1).done_on == NEXT_MONDAY
    assert step(plan, 2).status == StepStatus.PLANNED
    assert "relief from step 1" in step(plan, 2).status_note and not link_rows(step(plan, 2)).exists()

    # 85% relief: the second block is ready, and its booking link is queued for the worker, due now.
    clock.move_to(local(NEXT_MONDAY, 14))
    relief(first, 85, by=nurse)
    second_step = step(plan, 2)
    assert second_step.status == StepStatus.READY
    assert "gave 85% relief; the pathway rules ask for 50%" in second_step.status_note
    row = link_rows(second_step).get()
    assert row.status == ReminderStatus.PENDING and row.due_at == local(NEXT_MONDAY, 14)

    # Its window: 7 to 21 days after the first block. The one check refuses earlier days, in words.
    too_soon = check_eligibility(patient=patient, procedure_type=calendar.mbb, order=second_step.order,
                                 day=WEDNESDAY)
    assert "Step 2 of the care plan comes at least 7 days after step 1" in too_soon.explain()
    assert too_soon.earliest == NEXT_MONDAY + dt.timedelta(days=7)
    assert too_soon.latest == NEXT_MONDAY + dt.timedelta(days=21)
    with pytest.raises(NotEligible, match="the earliest day is 2026-12-07"):
        book_step(calendar, plan, 2, WEDNESDAY, by=front_desk)

    second = book_step(calendar, plan, 2, NEXT_MONDAY + dt.timedelta(days=7), by=front_desk)
    take_through(second, clock, by=nurse)
    assert step(plan, 3).status == StepStatus.PLANNED  # waits for the second block's relief
    relief(second, 90, by=nurse)

    # RFA left is ready to book; RFA right waits for it, 14 days after its day.
    assert statuses(plan) == ["done", "done", "ready", "planned"]
    assert link_rows(step(plan, 3)).count() == 1
    left = book_step(calendar, plan, 3, NEXT_MONDAY + dt.timedelta(days=9), by=front_desk)
    assert step(plan, 3).status == StepStatus.BOOKED
    steps = plan_steps(plan)
    assert step_window(steps[3], steps).earliest == NEXT_MONDAY + dt.timedelta(days=23)
    right = step(plan, 4)
    assert (right.status, right.window_start) == (StepStatus.PLANNED, NEXT_MONDAY + dt.timedelta(days=23))
    # The demo's RFA interval counts the same side only (a repeat of the same site after 6 months):
    # the right side is planned from 14 days after the left, on the physician's first free day.
    assert right.proposed_date is not None and "6 months" not in right.planning_note
    assert NEXT_MONDAY + dt.timedelta(days=23) <= right.proposed_date <= NEXT_MONDAY + dt.timedelta(days=30)
    assert not right.tentative

    # RFA left done: no outcome needed for a step without a relief gate; the right side is ready.
    take_through(left, clock, by=nurse)
    assert statuses(plan) == ["done", "done", "done", "ready"]
    right = step(plan, 4)
    assert check_eligibility(patient=patient, procedure_type=right.procedure_type, order=right.order,
                             day=right.proposed_date).eligible
    # The same side again within 6 months is still refused, in words that name the side.
    again = check_eligibility(patient=patient, procedure_type=right.procedure_type, order=step(plan, 3).order,
                              day=right.proposed_date)
    assert "on the left side" in again.explain() and "At least 6 months" in again.explain()
    assert plan.history.filter(history_user=nurse).exists() or step(plan, 4).history.filter(
        history_user=nurse).exists()


def test_the_last_step_done_completes_the_plan(calendar, clock, nurse):
    patient = patient_with("Self-pay")
    plan = make_plan(calendar, patient, FACET[:1], name="One block")
    visit = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(visit, clock, by=nurse)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert plan.history.first().history_change_reason == "Every step done"


# ---- A failed gate stops the plan ------------------------------------------------------------------

def test_a_medicare_patients_60_percent_block_stops_the_plan(calendar, clock, nurse):
    patient = patient_with("Medicare")
    plan = make_plan(calendar, patient)
    first = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(first, clock, by=nurse)
    relief(first, 60, by=nurse)

    plan.refresh_from_db()
    stopped = step(plan, 2)
    assert plan.status == PlanStatus.NEEDS_DECISION
    assert stopped.status == StepStatus.STOPPED
    assert stopped.status_note == "Step 1 (Lumbar medial branch block (diagnostic), bilateral) gave 60% relief; " \
                                  "Medicare asks for 80%."
    assert "Stopped at step 2" in plan.status_note and "Medicare asks for 80%" in plan.status_note
    assert not link_rows(stopped).exists()
    assert plan.history.first().history_user == nurse

    # Its order is not bookable: the one check says why.
    eligibility = check_eligibility(patient=patient, procedure_type=calendar.mbb, order=stopped.order,
                                    day=NEXT_MONDAY + dt.timedelta(days=8))
    assert "Step 2 of the care plan is stopped at its gate and waits for the physician's decision" in \
        eligibility.explain()


def test_the_same_60_percent_lets_a_commercial_patient_go_on(calendar, clock, nurse):
    patient = patient_with("Prairie Mutual Health")
    plan = make_plan(calendar, patient)
    first = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(first, clock, by=nurse)
    relief(first, 60, by=nurse)
    assert step(plan, 2).status == StepStatus.READY
    assert "gave 60% relief; the pathway rules ask for 50%" in step(plan, 2).status_note


def test_a_corrected_outcome_moves_the_plan_either_way(calendar, clock, nurse):
    patient = patient_with("Medicare")
    plan = make_plan(calendar, patient)
    first = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(first, clock, by=nurse)
    relief(first, 85, by=nurse)
    assert step(plan, 2).status == StepStatus.READY
    relief(first, 70, by=nurse)  # mistyped: it was 70%
    plan.refresh_from_db()
    assert (plan.status, step(plan, 2).status) == (PlanStatus.NEEDS_DECISION, StepStatus.STOPPED)
    assert link_rows(step(plan, 2)).get().status == ReminderStatus.CANCELLED
    relief(first, 82, by=nurse)
    plan.refresh_from_db()
    assert (plan.status, step(plan, 2).status) == (PlanStatus.ACTIVE, StepStatus.READY)


def test_the_scs_plan_with_a_failed_trial_stops_before_the_implant(calendar, clock, nurse, practising_physician):
    patient = patient_with("Self-pay")
    plan = make_plan(calendar, patient, SCS, name="Spinal cord stimulation", region="thoracic")
    trial_step = step(plan, 2)
    assert trial_step.status == StepStatus.PLANNED
    assert "Step 2 of the care plan waits for step 1 (Psychological evaluation) to be done first." in \
        check_eligibility(patient=patient, procedure_type=trial_step.procedure_type, order=trial_step.order,
                          day=NEXT_MONDAY).explain()

    # The evaluation, done elsewhere, is marked done with its day: the trial goes ahead, and the
    # evaluation's day is on its order (the trial's own check asks for it there).
    with pytest.raises(BookingError, match="today or earlier"):
        careplan_step_mark_done(step=step(plan, 1), day=NOW.date() + dt.timedelta(days=1), by=practising_physician)
    careplan_step_mark_done(step=step(plan, 1), day=dt.date(2026, 11, 20), by=practising_physician)
    trial_step = step(plan, 2)
    assert trial_step.status == StepStatus.READY
    assert trial_step.status_note == "A psychological evaluation is on file (2026-11-20). Its booking link is on " \
                                     "its way to the patient."
    assert trial_step.order.psych_evaluation_date == dt.date(2026, 11, 20)

    trial = book_step(calendar, plan, 2, NEXT_MONDAY, hour=9)
    assert trial.follow_ups.count() == 1  # the lead removal, as always
    take_through(trial, clock, by=nurse)
    relief(trial, 40, by=nurse)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NEEDS_DECISION
    assert statuses(plan) == ["done", "done", "stopped"]
    assert step(plan, 3).status_note == "Step 2 (Spinal cord stimulator trial) gave 40% relief; " \
                                        "the pathway rules ask for 50%."


# ---- Gates in words ---------------------------------------------------------------------------------

def test_a_steps_own_threshold_comes_before_the_payers(calendar, clock, nurse):
    patient = patient_with("Medicare")
    plan = make_plan(calendar, patient)
    plan.steps.filter(position=2).update(gate_relief_percent=60)
    first = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(first, clock, by=nurse)
    relief(first, 60, by=nurse)
    assert step(plan, 2).status == StepStatus.READY
    assert "gave 60% relief; the plan asks for 60%" in step(plan, 2).status_note


def test_prior_authorization_gates_wait_pass_and_fail_in_words(calendar):
    patient = patient_with("Prairie Mutual Health")
    plan = make_plan(calendar, patient, [FACET[3]], name="Ablation")
    plan.steps.update(gate=Gate.PRIOR_AUTHORIZATION)
    order = step(plan, 1).order
    answer = gate_answer(step(plan, 1), plan_steps(plan))
    assert answer.state == GateState.WAITING and answer.words == \
        "Prior authorization from Prairie Mutual Health is not requested."
    order.authorization_status = "denied"
    order.save()
    answer = gate_answer(step(plan, 1), plan_steps(plan))
    assert answer.failed and "Prairie Mutual Health denied prior authorization" in answer.words
    order.authorization_status, order.authorization_number = "approved", "PA-77"
    order.save()
    assert gate_answer(step(plan, 1), plan_steps(plan)).words == "Prior authorization PA-77 is approved."
    self_pay = make_plan(calendar, patient_with("Self-pay"), [FACET[3]], name="Ablation")
    self_pay.steps.update(gate=Gate.PRIOR_AUTHORIZATION)
    assert gate_answer(step(self_pay, 1), plan_steps(self_pay)).words == \
        "Self-pay does not ask for prior authorization for this step."


# ---- Cancelled, missed, moved -------------------------------------------------------------------------

def test_a_cancelled_or_missed_visit_makes_its_step_ready_again(calendar, clock, front_desk):
    patient = patient_with("Self-pay")
    plan = make_plan(calendar, patient)
    visit = book_step(calendar, plan, 1, NEXT_MONDAY)
    services.appointment_cancel(appointment=visit, reason="Patient has the flu", by=front_desk)
    first = step(plan, 1)
    assert first.status == StepStatus.READY and "was cancelled: it can be booked again" in first.status_note
    assert first.order.status == OrderStatus.OPEN
    again = book_step(calendar, plan, 1, NEXT_MONDAY, hour=10)
    assert step(plan, 1).status == StepStatus.BOOKED
    clock.move_to(local(NEXT_MONDAY, 12))
    services.appointment_mark_no_show(appointment=again, by=front_desk)
    assert step(plan, 1).status == StepStatus.READY and "was missed" in step(plan, 1).status_note
    assert again.status == AppointmentStatus.NO_SHOW


# ---- Booking a step that is not ready -------------------------------------------------------------------

def test_the_api_refuses_a_planned_steps_order_with_the_words(calendar, front_desk):
    patient = patient_with("Self-pay")
    plan = make_plan(calendar, patient)
    client = APIClient()
    client.force_authenticate(front_desk)
    response = client.post("/api/v1/appointments/", {
        "patient": patient.pk, "procedure_type": "MBB_LUMBAR", "physician": calendar.okafor.pk,
        "start": local(NEXT_MONDAY, 9).isoformat(), "order": step(plan, 2).order.pk}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_eligible"
    assert "Step 2 of the care plan waits for step 1 (Lumbar medial branch block (diagnostic), bilateral) to be " \
           "done first." in response.json()["detail"]
    assert step(plan, 2).status == StepStatus.PLANNED


def test_an_authorization_approved_on_the_order_lets_the_waiting_step_go_ahead(client, calendar,
                                                                               practising_physician):
    patient = patient_with("Prairie Mutual Health")
    plan = make_plan(calendar, patient, [(StepKind.PHYSICAL_THERAPY, None, "", 0, None, Gate.NONE),
                                         (*FACET[2][:5], Gate.PRIOR_AUTHORIZATION)], name="Therapy, then ablation")
    careplan_step_mark_done(step=step(plan, 1), day=NOW.date(), by=practising_physician)
    waiting = step(plan, 2)
    assert waiting.status == StepStatus.PLANNED
    assert waiting.status_note == "Waits: Prior authorization from Prairie Mutual Health is not requested."

    order = waiting.order
    client.force_login(practising_physician)
    response = client.post(reverse("admin:scheduling_procedureorder_change", args=[order.pk]), {
        "patient": patient.pk, "procedure_type": order.procedure_type_id, "ordering_physician": calendar.okafor.pk,
        "status": "open", "priority": "routine", "region": "lumbar", "laterality": "left", "levels": "",
        "authorization_status": "approved", "authorization_number": "PA-2207",
        "authorization_valid_from": "2026-11-24", "authorization_valid_until": "2027-02-24",
        "imaging_date": "", "psych_evaluation_date": "", "notes": order.notes, "override_reason": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    ready = step(plan, 2)
    assert ready.status == StepStatus.READY
    assert ready.status_note.startswith("Prior authorization PA-2207 is approved.")
    assert ready.history.first().history_user == practising_physician


def test_an_outcome_recorded_on_the_visits_admin_page_moves_the_plan_on(client, calendar, clock, nurse):
    plan = make_plan(calendar, patient_with("Medicare"))
    block = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(block, clock, by=nurse)
    client.force_login(nurse)
    response = client.post(f"/admin/scheduling/appointment/{block.pk}/change/", {
        "notes": "", "outcome-TOTAL_FORMS": 1, "outcome-INITIAL_FORMS": 0, "outcome-MIN_NUM_FORMS": 0,
        "outcome-MAX_NUM_FORMS": 1, "outcome-0-pain_before": 8, "outcome-0-pain_after": 1,
        "outcome-0-relief_duration_hours": 6, "outcome-0-appointment": block.pk,
        **{f"{prefix}-{key}": 0 for prefix in ("follow_ups", "overrides", "reminders")
           for key in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")},
    })
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert step(plan, 2).status == StepStatus.READY
    assert "gave 88% relief; Medicare asks for 80%." in step(plan, 2).status_note
    assert block.outcome.recorded_by == nurse


def test_moving_or_cancelling_a_steps_visit_replans_the_later_tentative_steps(calendar, front_desk):
    plan = make_plan(calendar, patient_with("Self-pay"))
    visit = book_step(calendar, plan, 1, NEXT_MONDAY)
    second = step(plan, 2)
    assert (second.window_start, second.window_end, second.tentative) == (
        NEXT_MONDAY + dt.timedelta(days=7), NEXT_MONDAY + dt.timedelta(days=21), True)
    assert second.proposed_date == NEXT_MONDAY + dt.timedelta(days=7)

    services.appointment_reschedule(appointment=visit, start=local(WEDNESDAY, 9), by=front_desk)
    second = step(plan, 2)
    assert step(plan, 1).status_note == "Booked for 2026-12-02."
    assert (second.window_start, second.window_end) == (WEDNESDAY + dt.timedelta(days=7),
                                                        WEDNESDAY + dt.timedelta(days=21))
    assert second.proposed_date == WEDNESDAY + dt.timedelta(days=7) and second.tentative
    assert step(plan, 3).proposed_date > second.proposed_date

    services.appointment_cancel(appointment=visit, reason="Patient is travelling", by=front_desk)
    first, second = step(plan, 1), step(plan, 2)
    assert first.status == StepStatus.READY
    # Planned again from the first step's own proposed day, not from the cancelled visit's.
    assert second.window_start == first.proposed_date + dt.timedelta(days=7)
    assert second.proposed_date < WEDNESDAY + dt.timedelta(days=7)
