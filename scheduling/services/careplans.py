"""Care plans: creating one for a patient (from a template or from steps), keeping its steps'
orders in step with its steps, and re-planning its timeline (DESIGN.md section 4).

Each step booked here has its own procedure order, so the order, prior-authorization and
eligibility checks apply to it unchanged. Whether a step may go ahead (its gate) and how a plan
advances on an outcome live in scheduling/services/careplan_progress.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.models import Patient, Physician
from scheduling.careplans.gates import gate_answer
from scheduling.careplans.planning import plan_proposals
from scheduling.careplans.steps import anchor_day, plan_steps
from scheduling.careplans.timeline import Proposal
from scheduling.errors import BookingError
from scheduling.webhooks.events import EventKind, care_plan_event
from scheduling.models import (
    STEP_FIELDS,
    CarePlan,
    CarePlanStep,
    CarePlanTemplate,
    OrderStatus,
    ProcedureOrder,
    StepStatus,
    relief_gate_error,
)

OPEN_FOR_PLANNING = (StepStatus.PLANNED, StepStatus.READY)


def _step_errors(position: int, error: ValidationError) -> str:
    messages = [message for messages in error.message_dict.values() for message in messages]
    return f"Step {position}: {' '.join(messages)}"


def _order_notes(plan: CarePlan, step: CarePlanStep) -> str:
    return f"Step {step.position} of care plan #{plan.pk} ({plan.name})."


def _order_for(plan: CarePlan, step: CarePlanStep, by) -> ProcedureOrder:
    """The step's own order. Ordered with the plan: the pathway rules that need earlier steps done
    (RFA after two blocks) are checked when it is booked, as for every order."""
    order = ProcedureOrder(patient=plan.patient, procedure_type=step.procedure_type,
                           ordering_physician=plan.physician, region=step.region, laterality=step.laterality,
                           priority=step.priority, notes=_order_notes(plan, step))
    order._history_user = by
    order.save()
    return order


@transaction.atomic
def plan_create(*, patient: Patient, physician: Physician, template: CarePlanTemplate | None = None,
                steps: Iterable[dict] | None = None, name: str = "", notes: str = "", by=None,
                now: dt.datetime | None = None) -> CarePlan:
    """A care plan for the patient, from a template (its steps copied) or from `steps` (dicts of
    the step fields, in order), with an order for each step booked here and its timeline proposed.

    The first step is ready at once unless its gate keeps it back; the others are planned."""
    if (template is None) == (steps is None):
        raise BookingError("Start the plan from a template or from its steps (one of the two).", field="template")
    if template is not None:
        if not template.is_active:
            raise BookingError(f"The template {template.name} is no longer in use.", field="template")
        steps = [{name: getattr(step, name) for name in STEP_FIELDS} for step in template.steps.order_by("position")]
    steps = list(steps)
    if not steps:
        raise BookingError("A plan needs at least one step.", field="steps")
    problem = relief_gate_error(steps)
    if problem:
        raise BookingError(problem, field="steps")
    if not physician.is_active:
        raise BookingError(f"{physician.name} is not taking patients.", field="physician")
    plan = CarePlan(patient=patient, physician=physician, template=template,
                    name=(name or (template.name if template else "Care plan")).strip()[:120], notes=notes,
                    created_by=by if getattr(by, "pk", None) else None)
    plan.full_clean(exclude=["created_by"])
    plan._history_user = by
    plan.save()
    created = []
    for position, values in enumerate(steps, start=1):
        unknown = set(values) - set(STEP_FIELDS)
        if unknown:
            raise BookingError(f"Step {position}: unknown field {sorted(unknown)[0]}.", field="steps")
        step = CarePlanStep(plan=plan, **{**values, "position": position})
        try:
            step.full_clean(exclude=["plan", "order"])
        except ValidationError as error:
            raise BookingError(_step_errors(position, error), field="steps") from error
        if step.booked_here:
            step.order = _order_for(plan, step, by)
        step._history_user = by
        step.save()
        created.append(step)
    # The first step is ready at once unless its gate keeps it back (an SCS trial's evaluation not
    # yet on file): then it waits, planned, with why. Its link is not sent by itself: staff book it,
    # or send the link from the plan's page.
    first = created[0]
    answer = gate_answer(first, plan_steps(plan))
    first.status = StepStatus.READY if answer.passed else StepStatus.PLANNED
    first.status_note = "" if answer.passed else answer.words
    first.save(update_fields=["status", "status_note"])
    care_plan_event(plan, EventKind.CARE_PLAN_CREATED, now=now)
    if first.status == StepStatus.READY:
        care_plan_event(plan, EventKind.CARE_PLAN_STEP_READY, step=first, now=now)
    plan_replan(plan, now=now, by=by)
    return plan


@transaction.atomic
def plan_steps_sync(plan: CarePlan, *, by=None, now: dt.datetime | None = None) -> list[Proposal]:
    """After the physician edited the plan: each open step booked here has an open order of its
    procedure type (a changed type cancels the old, unbooked order and orders the new one) with
    the step's region, laterality and priority and the plan's physician; steps done elsewhere
    have none. Then re-plan."""
    for step in plan.steps.select_related("order", "procedure_type").order_by("position"):
        # A step stopped at its gate may have been changed before the physician resumes the plan.
        if step.status not in (*OPEN_FOR_PLANNING, StepStatus.STOPPED):
            continue
        order = step.order
        stale = order is not None and (not step.booked_here or order.procedure_type_id != step.procedure_type_id
                                       or order.status != OrderStatus.OPEN)
        if stale and order.status == OrderStatus.OPEN:
            order.status = OrderStatus.CANCELLED
            order.notes = f"{order.notes}\nCancelled: step {step.position} of the care plan changed.".strip()
            order._history_user = by
            order.save(update_fields=["status", "notes"])
        if stale:
            step.order = None
        if step.booked_here and step.order is None:
            step.order = _order_for(plan, step, by)
        elif step.order is not None:
            changed = {name: getattr(step, name) for name in ("region", "laterality", "priority")
                       if getattr(step.order, name) != getattr(step, name)}
            if step.order.ordering_physician_id != plan.physician_id:  # the plan changed hands
                changed["ordering_physician_id"] = plan.physician_id
            if changed:
                for name, value in changed.items():
                    setattr(step.order, name, value)
                step.order._history_user = by
                step.order.save(update_fields=list(changed))
        step._history_user = by
        step.save(update_fields=["order"])
    return plan_replan(plan, now=now, by=by)


@transaction.atomic
def plan_replan(plan: CarePlan, *, now: dt.datetime | None = None, by=None) -> list[Proposal]:
    """Propose again the day, window and tentative flag of each step still planned or ready, from
    the days of the steps done or booked before it; done and booked steps are left as they are."""
    steps = plan_steps(plan)
    proposals, needs = plan_proposals(plan, now=now or timezone.now(), steps=steps)
    by_position = {proposal.position: proposal for proposal in proposals}
    for step in steps:
        if step.status in (StepStatus.DONE, StepStatus.BOOKED):
            _propose_real_day(step, by=by)
            continue
        if step.status not in OPEN_FOR_PLANNING:
            continue
        proposal = by_position.get(step.position)
        values = {"proposed_date": None, "window_start": None, "window_end": None, "tentative": True,
                  "planning_note": "Waits for an earlier step."}
        if proposal is not None:
            note = " ".join(part for part in (proposal.note, needs.get(step.position, "")) if part)
            values = {"proposed_date": proposal.day, "window_start": proposal.window_start,
                      "window_end": proposal.window_end, "tentative": proposal.tentative, "planning_note": note}
        changed = [name for name, value in values.items() if getattr(step, name) != value]
        if changed:
            for name in changed:
                setattr(step, name, values[name])
            step._history_user = by
            step.save(update_fields=changed)
    return proposals


def _propose_real_day(step: CarePlanStep, *, by) -> None:
    """A done or booked step's proposed day becomes its real one: the day it happened or the day
    its visit is booked for (never a stale proposal)."""
    day = anchor_day(step)
    if day is not None and step.proposed_date != day:
        step.proposed_date = day
        step._history_user = by
        step.save(update_fields=["proposed_date"])
