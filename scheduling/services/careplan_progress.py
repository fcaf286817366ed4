"""A care plan moving on: booked, done, judged at its gates, stopped for the physician's decision.

The visit services call in here explicitly (no signals): booking a step's order makes the step
booked; cancelling its visit or a no-show makes it ready again; moving it re-plans the steps
after it; completing it makes it done; recording an outcome judges the next step's gate. A
step done elsewhere (physical therapy, a psychological evaluation, imaging) is marked done by
staff with its day. Each time, `plan_advance` takes the plan as far as its gates allow: the
next step becomes ready (its booking link goes to the patient through the reminder worker),
waits (for an outcome, an evaluation, an authorization), or stops at a failed gate, and the
plan then waits for the physician's decision (scheduling/services/careplan_decisions.py).

Every change is saved with who made it and why, and shows in the plan's history.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from scheduling.careplans.gates import GateAnswer, gate_answer
from scheduling.careplans.steps import (
    GONE,
    capital_label,
    current_step,
    label,
    plan_steps,
    previous_booked_here,
    step_window,
    visit_day,
)
from scheduling.careplans.turns import step_of_order
from scheduling.errors import BookingError
from scheduling.webhooks.events import EventKind, care_plan_event
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    CarePlan,
    CarePlanStep,
    Outcome,
    PlanStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
    StepKind,
    StepStatus,
)
from scheduling.services.careplans import plan_replan
from scheduling.services.order_links import order_link_offer

_HISTORY_REASON_LENGTH = CarePlan.history.model._meta.get_field("history_change_reason").max_length


def _history_reason(text: str) -> str:
    return text if len(text) <= _HISTORY_REASON_LENGTH else text[:_HISTORY_REASON_LENGTH - 1] + "…"


def save_with_history(obj: CarePlan | CarePlanStep, fields: list[str], *, by, reason: str) -> None:
    """Save the named fields, with who and why in the object's history."""
    obj._history_user = by if getattr(by, "pk", None) else None
    obj._change_reason = _history_reason(reason)
    if isinstance(obj, CarePlan):
        fields = [*fields, "updated_at"]
    obj.save(update_fields=fields)


def _today(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def booking_link_send(step: CarePlanStep, *, now: dt.datetime) -> str:
    """Queue the step's booking link for the patient through the reminder worker, as the order
    admin's "send booking link" does; what happened, in words for the step's note."""
    answer = order_link_offer(step.order, now=now)
    if answer.sent:
        return "Its booking link is on its way to the patient."
    return f"No booking link was sent ({answer.reason}): book it with the patient."


def _links_cancel(step: CarePlanStep) -> None:
    if step.order_id:
        Reminder.objects.filter(order_id=step.order_id, kind=ReminderKind.ORDER_BOOKING_LINK,
                                status=ReminderStatus.PENDING).update(status=ReminderStatus.CANCELLED)


def stop_at(plan: CarePlan, step: CarePlanStep, why: str, *, by) -> None:
    """The plan stops at `step`; the physician decides (end, repeat the step, change it)."""
    step.status, step.status_note = StepStatus.STOPPED, why
    save_with_history(step, ["status", "status_note"], by=by, reason="Stopped at its gate")
    _links_cancel(step)
    plan.status, plan.status_note = PlanStatus.NEEDS_DECISION, f"Stopped at {label(step)}: {why}"
    save_with_history(plan, ["status", "status_note"], by=by, reason=f"Stopped at step {step.position}")
    care_plan_event(plan, EventKind.CARE_PLAN_STOPPED, step=step)


def step_make_ready(plan: CarePlan, step: CarePlanStep, steps: list[CarePlanStep], answer: GateAnswer, *, by,
                    now: dt.datetime) -> None:
    """The step's turn has come and its gate passed: ready to book, its link sent to the patient;
    or stopped, if the days its waits allow are already over."""
    window = step_window(step, steps)
    if window.latest is not None and window.latest < _today(now):
        stop_at(plan, step, f"{answer.words} The days its waits allow ended on {window.latest.isoformat()}."
                .replace("No gate. ", ""), by=by)
        return
    step.status = StepStatus.READY
    step.status_note = "" if answer.words == "No gate." else answer.words
    save_with_history(step, ["status", "status_note"], by=by, reason="Ready to book" if step.booked_here else "Ready")
    care_plan_event(plan, EventKind.CARE_PLAN_STEP_READY, step=step, now=now)
    if step.booked_here and step.order_id:  # once ready: the link is offered only for a bookable order
        step.status_note = f"{step.status_note} {booking_link_send(step, now=now)}".strip()
        save_with_history(step, ["status_note"], by=by, reason="Booking link offered")


@transaction.atomic
def plan_advance(*, plan: CarePlan, by=None, now: dt.datetime | None = None) -> CarePlan:
    """Take an active plan as far as its gates allow, then re-plan the steps still to come.

    Safe to call at any time: a plan at a ready or booked step, or waiting at a gate, stays as
    it is; one whose steps are all done (or skipped) is completed."""
    now = now or timezone.now()
    plan = CarePlan.objects.select_for_update(of=("self",)).select_related("patient__payer").get(pk=plan.pk)
    if plan.status != PlanStatus.ACTIVE:
        return plan
    steps = plan_steps(plan)
    step = current_step(steps)
    if step is None:
        plan.status, plan.status_note = PlanStatus.COMPLETED, ""
        save_with_history(plan, ["status", "status_note"], by=by, reason="Every step done")
        care_plan_event(plan, EventKind.CARE_PLAN_COMPLETED, now=now)
        plan_replan(plan, now=now, by=by)  # the steps' days: the real ones
        return plan
    if step.status == StepStatus.PLANNED:
        answer = gate_answer(step, steps)
        if answer.passed:
            step_make_ready(plan, step, steps, answer, by=by, now=now)
        elif answer.failed:
            stop_at(plan, step, answer.words, by=by)
        elif step.status_note != f"Waits: {answer.words}":
            step.status_note = f"Waits: {answer.words}"
            save_with_history(step, ["status_note"], by=by, reason="Waits at its gate")
    plan_replan(plan, now=now, by=by)
    return plan


def _step_of(appointment: Appointment) -> CarePlanStep | None:
    return step_of_order(appointment.order) if appointment.order_id else None


def careplan_visit_booked(*, appointment: Appointment, by=None, now: dt.datetime | None = None) -> None:
    """The step's order was booked: the step is booked, and the steps after it are re-planned
    from the visit's day. In the booking's transaction."""
    step = _step_of(appointment)
    if step is None or step.status in (StepStatus.BOOKED, StepStatus.DONE):
        return
    step.status = StepStatus.BOOKED
    step.status_note = f"Booked for {visit_day(appointment).isoformat()}."
    save_with_history(step, ["status", "status_note"], by=by, reason="Booked")
    plan_replan(step.plan, now=now or timezone.now(), by=by)


def careplan_visit_moved(*, appointment: Appointment, by=None, now: dt.datetime | None = None) -> None:
    """The step's visit moved: the steps after it are re-planned from its new day."""
    step = _step_of(appointment)
    if step is None or step.status != StepStatus.BOOKED:
        return
    step.status_note = f"Booked for {visit_day(appointment).isoformat()}."
    save_with_history(step, ["status_note"], by=by, reason="Visit moved")
    plan_replan(step.plan, now=now or timezone.now(), by=by)


def careplan_visit_off(*, appointment: Appointment, what: str, by=None, now: dt.datetime | None = None) -> None:
    """The step's visit was cancelled or missed (`what`): the step can be booked again (unless
    the plan has ended), and the steps after it are re-planned."""
    step = _step_of(appointment)
    if step is None or step.status != StepStatus.BOOKED:
        return
    if appointment.order.appointments.filter(status__in=ACTIVE_STATUSES).exists():
        return  # booked again on the same order meanwhile
    ended = step.plan.status == PlanStatus.ENDED
    step.status = StepStatus.CANCELLED if ended else StepStatus.READY
    step.status_note = f"Its visit on {visit_day(appointment).isoformat()} was {what}" + (
        "." if ended else ": it can be booked again.")
    save_with_history(step, ["status", "status_note"], by=by, reason=f"Visit {what}")
    plan_replan(step.plan, now=now or timezone.now(), by=by)


def careplan_visit_completed(*, appointment: Appointment, by=None, now: dt.datetime | None = None) -> None:
    """The step's visit happened: the step is done on its day, and the plan moves on (a next
    step with a relief gate waits for the outcome)."""
    step = _step_of(appointment)
    if step is None or step.status == StepStatus.DONE:
        return
    step.status, step.done_on = StepStatus.DONE, visit_day(appointment)
    step.status_note = f"Done on {step.done_on.isoformat()}."
    save_with_history(step, ["status", "done_on", "status_note"], by=by, reason="Visit completed")
    plan_advance(plan=step.plan, by=by, now=now)


def careplan_order_changed(*, order, by=None, now: dt.datetime | None = None) -> None:
    """Staff changed a step's order (an authorization approved, an evaluation's date recorded):
    a step waiting at its gate for it may go ahead now."""
    step = step_of_order(order)
    if step is not None and step.plan.status == PlanStatus.ACTIVE:
        plan_advance(plan=step.plan, by=by, now=now)


def _judged_next(step: CarePlanStep, steps: list[CarePlanStep]) -> CarePlanStep | None:
    """The step after `step` whose relief gate judges it, if any."""
    later = [other for other in steps if other.position > step.position and other.status not in GONE]
    if not later or previous_booked_here(later[0], steps) is None:
        return None
    following = later[0]
    return following if previous_booked_here(following, steps).pk == step.pk else None


def careplan_outcome_recorded(*, outcome: Outcome, by=None, now: dt.datetime | None = None) -> None:
    """An outcome was recorded (or corrected) for a step's visit: the step is done, and the next
    step's gate is judged by it. A corrected outcome that now fails stops a step made ready by
    the first; one that now passes lets a step it stopped go ahead."""
    appointment = outcome.appointment
    step = _step_of(appointment)
    if step is None:
        return
    now = now or timezone.now()
    if step.status != StepStatus.DONE:
        careplan_visit_completed(appointment=appointment, by=by, now=now)
        step.refresh_from_db()
    plan = CarePlan.objects.select_for_update(of=("self",)).select_related("patient__payer").get(pk=step.plan_id)
    steps = plan_steps(plan)
    following = _judged_next(next(other for other in steps if other.pk == step.pk), steps)
    if following is not None and following.status in (StepStatus.READY, StepStatus.STOPPED):
        answer = gate_answer(following, steps)
        if following.status == StepStatus.READY and answer.failed and plan.status == PlanStatus.ACTIVE:
            stop_at(plan, following, answer.words, by=by)
        elif following.status == StepStatus.STOPPED and answer.passed and plan.status == PlanStatus.NEEDS_DECISION:
            following.status, following.status_note = StepStatus.PLANNED, ""
            save_with_history(following, ["status", "status_note"], by=by, reason="Outcome corrected")
            plan.status, plan.status_note = PlanStatus.ACTIVE, ""
            save_with_history(plan, ["status", "status_note"], by=by,
                              reason=f"Outcome corrected: step {following.position} goes ahead")
    plan_advance(plan=plan, by=by, now=now)


def _psych_evaluation_on_orders(step: CarePlanStep, steps: list[CarePlanStep], *, by) -> None:
    """A psychological evaluation done: its day goes on the later orders that need one on file
    (the SCS trial's), so the order's own check agrees with the plan."""
    for later in steps:
        order = later.order
        if (later.position > step.position and order is not None and not order.psych_evaluation_date
                and later.procedure_type_id and later.procedure_type.requires_psych_evaluation):
            order.psych_evaluation_date = step.done_on
            order._history_user = by
            order._change_reason = f"Psychological evaluation of care-plan step {step.position}"
            order.save(update_fields=["psych_evaluation_date"])


@transaction.atomic
def careplan_step_mark_done(*, step: CarePlanStep, day: dt.date, by=None, note: str = "",
                            now: dt.datetime | None = None) -> CarePlanStep:
    """A step done elsewhere (physical therapy, a psychological evaluation, imaging) happened on
    `day`: it is done, and the plan moves on."""
    now = now or timezone.now()
    plan = CarePlan.objects.select_for_update().get(pk=step.plan_id)
    step = CarePlanStep.objects.select_related("procedure_type").get(pk=step.pk)
    if step.booked_here:
        raise BookingError(f"{capital_label(step)} is a visit here: it is done when its visit is completed.",
                           code="invalid_transition")
    if plan.status in (PlanStatus.ENDED, PlanStatus.COMPLETED):
        raise BookingError(f"The plan is {plan.get_status_display().lower()}.", code="invalid_transition")
    if step.status not in (StepStatus.PLANNED, StepStatus.READY):
        raise BookingError(f"{capital_label(step)} is {step.get_status_display().lower()}.",
                           code="invalid_transition")
    if day is None or day > _today(now):
        raise BookingError("Give the day it was done: today or earlier.", field="day")
    step.status, step.done_on = StepStatus.DONE, day
    step.status_note = (note or "").strip()[:300] or f"Done elsewhere on {day.isoformat()}."
    save_with_history(step, ["status", "done_on", "status_note"], by=by, reason=f"Done elsewhere on {day.isoformat()}")
    if step.kind == StepKind.PSYCH_EVALUATION:
        _psych_evaluation_on_orders(step, plan_steps(plan), by=by)
    plan_advance(plan=plan, by=by, now=now)
    step.refresh_from_db()
    return step
