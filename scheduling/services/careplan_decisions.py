"""The physician's decisions on a care plan stopped at a gate (or one they want to end).

End the plan (with a reason); repeat the step whose outcome failed the gate (a copy with its own
order goes in before the stopped step, ready to book); or change the steps in the plan's admin
and resume (the stopped step is judged again). Only a physician on the clinic's books decides:
the views ask `may_decide`, and the services refuse anyone else. Every change is in the plan's
history with who and why.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from scheduling.careplans.gates import GateAnswer, gate_answer
from scheduling.careplans.steps import capital_label, label, plan_steps, previous_booked_here
from scheduling.errors import BookingError
from scheduling.webhooks.events import EventKind, care_plan_event
from scheduling.models import (
    ACTIVE_STATUSES,
    CarePlan,
    CarePlanStep,
    Gate,
    OrderStatus,
    PlanStatus,
    ProcedureOrder,
    StepStatus,
)
from scheduling.services.careplan_progress import plan_advance, save_with_history, step_make_ready
from scheduling.services.careplans import plan_replan

DECIDE_PERMISSION = "scheduling.change_careplan"
# Steps an ended plan cancels: those not under way. A booked visit stays booked until staff cancel it.
ENDS = (StepStatus.PLANNED, StepStatus.READY, StepStatus.STOPPED)


def may_decide(user) -> bool:
    """A physician on the clinic's books: the role's permission and an active physician record
    (as for overriding a pathway rule: a login put in the Physician group is not enough)."""
    if user is None or not user.is_authenticated or not user.is_active or not user.has_perm(DECIDE_PERMISSION):
        return False
    try:
        return user.physician.is_active
    except ObjectDoesNotExist:
        return False


def _check(plan: CarePlan, by) -> CarePlan:
    if not may_decide(by):
        raise BookingError("Only a physician decides how a care plan goes on.", code="permission_denied")
    # Only the plan's row is locked (of=self): PostgreSQL cannot lock the nullable side of a join.
    return (CarePlan.objects.select_for_update(of=("self",)).select_related("patient__payer", "physician")
            .get(pk=plan.pk))


def _stopped(plan: CarePlan) -> CarePlanStep:
    if plan.status != PlanStatus.NEEDS_DECISION:
        raise BookingError(f"The plan is {plan.get_status_display().lower()}, not stopped at a step.",
                           code="invalid_transition")
    step = plan.steps.filter(status=StepStatus.STOPPED).order_by("position").first()
    if step is None:
        raise BookingError("No step of the plan is stopped.", code="invalid_transition")
    return step


@transaction.atomic
def careplan_end(*, plan: CarePlan, reason: str, by, now: dt.datetime | None = None) -> CarePlan:
    """End the plan: its steps not under way are cancelled with their unbooked orders. A booked
    visit stays booked (cancel it on the visit if it should not go ahead)."""
    plan = _check(plan, by)
    reason = (reason or "").strip()
    if not reason:
        raise BookingError("Say why the plan ends.", field="reason")
    if plan.status in (PlanStatus.ENDED, PlanStatus.COMPLETED):
        raise BookingError(f"The plan is already {plan.get_status_display().lower()}.", code="invalid_transition")
    for step in plan.steps.select_related("order").filter(status__in=ENDS):
        step.status, step.status_note = StepStatus.CANCELLED, f"The plan ended: {reason}"
        save_with_history(step, ["status", "status_note"], by=by, reason="The plan ended")
        order = step.order
        if order is not None and order.status == OrderStatus.OPEN and not order.appointments.filter(
                status__in=ACTIVE_STATUSES).exists():
            order.status = OrderStatus.CANCELLED
            order.notes = f"{order.notes}\nCancelled: the care plan ended ({reason}).".strip()
            order._history_user = by
            order.save(update_fields=["status", "notes"])
    plan.status, plan.status_note = PlanStatus.ENDED, reason
    save_with_history(plan, ["status", "status_note"], by=by, reason=f"Ended: {reason}")
    care_plan_event(plan, EventKind.CARE_PLAN_ENDED, now=now)
    return plan


def _order_copy(plan: CarePlan, step: CarePlanStep, like: ProcedureOrder | None, *, by) -> ProcedureOrder:
    """The repeated step's own order: what is on file for the patient (an evaluation, imaging)
    carries over; a prior authorization does not (the payer approves each procedure)."""
    order = ProcedureOrder(patient=plan.patient, procedure_type=step.procedure_type, ordering_physician=plan.physician,
                           region=step.region, laterality=step.laterality, priority=step.priority,
                           levels=like.levels if like else "",
                           psych_evaluation_date=like.psych_evaluation_date if like else None,
                           imaging_confirms_acute_fracture=like.imaging_confirms_acute_fracture if like else False,
                           imaging_date=like.imaging_date if like else None,
                           notes=f"Step {step.position} of care plan #{plan.pk} ({plan.name}).")
    order._history_user = by
    order.save()
    return order


@transaction.atomic
def careplan_repeat_step(*, plan: CarePlan, by, note: str = "", now: dt.datetime | None = None) -> CarePlanStep:
    """Repeat the step whose outcome stopped the plan: a copy goes in before the stopped step,
    with its own order, ready to book (its link goes to the patient); the stopped step then waits
    for the copy's outcome. The copy keeps the stopped step's waits and has no gate of its own."""
    now = now or timezone.now()
    plan = _check(plan, by)
    stopped = _stopped(plan)
    steps = plan_steps(plan)
    stopped = next(step for step in steps if step.pk == stopped.pk)
    repeated = previous_booked_here(stopped, steps)
    if repeated is None or stopped.gate != Gate.RELIEF:
        raise BookingError(f"{capital_label(stopped)} does not wait on an earlier step's relief: there is no "
                           "step to repeat. Change the plan instead.", code="invalid_transition")
    position = stopped.position
    for later in sorted((step for step in steps if step.position >= position), key=lambda step: -step.position):
        later.position += 1  # from the last one down: positions are unique within the plan
        save_with_history(later, ["position"], by=by, reason=f"Moved down for a repeat of step {repeated.position}")
    copy = CarePlanStep(plan=plan, position=position, kind=repeated.kind, procedure_type=repeated.procedure_type,
                        region=repeated.region, laterality=repeated.laterality, priority=repeated.priority,
                        min_days_after=stopped.min_days_after, max_days_after=stopped.max_days_after,
                        gate=Gate.NONE, note=f"Repeat of step {repeated.position}"[:200])
    copy.order = _order_copy(plan, copy, repeated.order, by=by) if copy.booked_here else None
    copy._history_user, copy._change_reason = by, f"Repeat of step {repeated.position} (physician's decision)"
    copy.save()
    stopped.status, stopped.status_note = StepStatus.PLANNED, f"Waits for the repeat, step {position}."
    save_with_history(stopped, ["status", "status_note"], by=by, reason=f"Waits for the repeat, step {position}")
    why = (note or "").strip()
    plan.status = PlanStatus.ACTIVE
    plan.status_note = f"Repeating {label(repeated)} as step {position}" + (f": {why}" if why else ".")
    save_with_history(plan, ["status", "status_note"], by=by, reason=f"Repeat of step {repeated.position}")
    care_plan_event(plan, EventKind.CARE_PLAN_RESUMED, now=now)
    steps = plan_steps(plan)
    copy = next(step for step in steps if step.pk == copy.pk)
    step_make_ready(plan, copy, steps, gate_answer(copy, steps), by=by, now=now)
    plan_replan(plan, now=now, by=by)
    return copy


@transaction.atomic
def careplan_resume(*, plan: CarePlan, by, note: str = "", now: dt.datetime | None = None) -> GateAnswer:
    """Go on after the physician changed the plan's steps: the stopped step is judged again
    (its gate as it is now). The answer says whether it went ahead or stopped again."""
    now = now or timezone.now()
    plan = _check(plan, by)
    stopped = _stopped(plan)
    stopped.status, stopped.status_note = StepStatus.PLANNED, ""
    save_with_history(stopped, ["status", "status_note"], by=by, reason="Resumed by the physician")
    why = (note or "").strip()
    plan.status, plan.status_note = PlanStatus.ACTIVE, why
    save_with_history(plan, ["status", "status_note"], by=by, reason="Resumed" + (f": {why}" if why else ""))
    care_plan_event(plan, EventKind.CARE_PLAN_RESUMED, step=stopped, now=now)
    steps = plan_steps(plan)
    answer = gate_answer(next(step for step in steps if step.pk == stopped.pk), steps)
    plan_advance(plan=plan, by=by, now=now)
    return answer
