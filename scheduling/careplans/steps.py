"""A care plan's steps as one sequence: which step comes before which, the day each one happened
or is booked for, and the days its waits leave for the next (DESIGN.md section 4).

Reads only: the services decide, from what these say, how a plan moves on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, CarePlan, CarePlanStep, StepStatus

# Steps no longer part of the sequence: nothing waits for them, and no wait counts from them.
GONE = (StepStatus.SKIPPED, StepStatus.CANCELLED)
# Steps that hold nothing back: the next one may take its turn.
SETTLED = (StepStatus.DONE, StepStatus.SKIPPED, StepStatus.CANCELLED)
# Steps whose order may be booked (or moved): their turn has come.
BOOKABLE = (StepStatus.READY, StepStatus.BOOKED)


def plan_steps(plan: CarePlan) -> list[CarePlanStep]:
    """The plan's steps in order, with what the rules, the planning and the words need of each:
    their orders' visits (with location and outcome) read once for the plan."""
    return list(plan.steps.select_related("procedure_type", "order", "plan__patient__payer").prefetch_related(
        "order__appointments__location", "order__appointments__outcome").order_by("position"))


def previous_step(step: CarePlanStep, steps: list[CarePlanStep]) -> CarePlanStep | None:
    """The step this one's waits count from: the nearest earlier one still in the sequence."""
    earlier = [other for other in steps if other.position < step.position and other.status not in GONE]
    return earlier[-1] if earlier else None


def previous_booked_here(step: CarePlanStep, steps: list[CarePlanStep]) -> CarePlanStep | None:
    """The nearest earlier step done at this clinic: the one whose relief a relief gate judges."""
    earlier = [other for other in steps
               if other.position < step.position and other.status not in GONE and other.booked_here]
    return earlier[-1] if earlier else None


def current_step(steps: list[CarePlanStep]) -> CarePlanStep | None:
    """The first step not yet settled: the one the plan is at."""
    return next((step for step in steps if step.status not in SETTLED), None)


def label(step: CarePlanStep) -> str:
    """The step in staff words: "step 2 (Lumbar medial branch block, left)"."""
    what = step.procedure_type.name if step.procedure_type_id else step.get_kind_display()
    side = f", {step.get_laterality_display().lower()}" if step.laterality else ""
    return f"step {step.position} ({what}{side})"


def capital_label(step: CarePlanStep) -> str:
    """The label at the start of a sentence: "Step 2 (...)"."""
    text = label(step)
    return text[:1].upper() + text[1:]


def step_visit(step: CarePlanStep) -> Appointment | None:
    """The visit booked on the step's order (still to happen or under way), else the last one
    completed on it; None for a step not booked here or not booked yet."""
    if not step.order_id:
        return None
    if "appointments" in getattr(step.order, "_prefetched_objects_cache", {}):  # from `plan_steps`
        visits = sorted((visit for visit in step.order.appointments.all()
                         if visit.status in ACTIVE_STATUSES or visit.status == AppointmentStatus.COMPLETED),
                        key=lambda visit: visit.procedure_start, reverse=True)
    else:
        visits = list(Appointment.objects.filter(order_id=step.order_id,
                                                 status__in=[*ACTIVE_STATUSES, AppointmentStatus.COMPLETED])
                      .select_related("location", "outcome").order_by("-procedure_start"))
    active = [visit for visit in visits if visit.status in ACTIVE_STATUSES]
    return (active or visits or [None])[0]


def visit_day(appointment: Appointment) -> dt.date:
    return appointment.procedure_start.astimezone(appointment.location.zone).date()


def anchor_day(step: CarePlanStep) -> dt.date | None:
    """The day the next step's waits count from: the day a done step happened, or the day a
    booked step's visit is booked for. None while the step has neither."""
    if step.status == StepStatus.DONE:
        if step.done_on:
            return step.done_on
        visit = step_visit(step)
        return visit_day(visit) if visit else None
    if step.status == StepStatus.BOOKED:
        visit = step_visit(step)
        return visit_day(visit) if visit and visit.status in ACTIVE_STATUSES else None
    return None


@dataclass(frozen=True)
class Window:
    """The days a step's waits allow: from `earliest` to `latest` (None: no bound), counted from
    `after` (the previous step) on `after_day`."""

    earliest: dt.date | None = None
    latest: dt.date | None = None
    after: CarePlanStep | None = None
    after_day: dt.date | None = None


def step_window(step: CarePlanStep, steps: list[CarePlanStep]) -> Window:
    """The step's window from the previous step's actual day; where that is not known yet, the
    last planned `window_end`."""
    previous = previous_step(step, steps)
    day = anchor_day(previous) if previous is not None else None
    if day is None:
        return Window(latest=step.window_end, after=previous)
    latest = day + dt.timedelta(days=step.max_days_after) if step.max_days_after is not None else None
    return Window(earliest=day + dt.timedelta(days=step.min_days_after), latest=latest, after=previous,
                  after_day=day)
