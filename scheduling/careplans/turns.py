"""Whose turn it is in a care plan, for the one eligibility check: an order that belongs to a
step is bookable only once the plan has reached that step (it is READY, or BOOKED and being
moved), and only on the days its waits allow.

Words for staff and the API; the patient pages say "your care plan does not allow this visit
on that day" for any refusal, and show the plan in their own words.
"""

from __future__ import annotations

import datetime as dt

from scheduling.careplans.gates import gate_answer
from scheduling.careplans.steps import BOOKABLE, SETTLED, label, plan_steps, previous_step, step_window
from scheduling.models import CarePlanStep, PlanStatus, ProcedureOrder, StepStatus
from scheduling.pathways.rules import Eligibility, Unmet

# The kind of the unmet requirements added here: a planner proposing days for steps still to
# come leaves them aside (the plan's turn is not a matter of days).
PLAN_TURN = "care_plan"


def step_of_order(order: ProcedureOrder | None) -> CarePlanStep | None:
    """The care-plan step the order was made for, if any (a prefetched `care_plan_steps` is used,
    and an `in_care_plan` read with the order that says it has none)."""
    if order is None or order.pk is None or getattr(order, "in_care_plan", None) is False:
        return None
    cached = getattr(order, "_prefetched_objects_cache", {}).get("care_plan_steps")
    if cached is not None:
        return next(iter(cached), None)
    return CarePlanStep.objects.select_related("plan").filter(order=order).first()


def waits_for(step: CarePlanStep, steps: list[CarePlanStep]) -> str:
    """What a step that is not its plan's current one waits for, as the end of a sentence."""
    previous = previous_step(step, steps)
    if previous is not None and previous.status not in SETTLED:
        return f"{label(previous)} to be done first"
    answer = gate_answer(step, steps)
    if answer.failed:
        return f"the physician's decision ({answer.words[:-1]})"
    return answer.awaiting or "its turn"


def _not_its_turn(step: CarePlanStep) -> str:
    plan, number = step.plan, step.position
    if plan.status == PlanStatus.ENDED:
        return f"The care plan this order belongs to has ended: {plan.status_note}".rstrip(": ")
    if step.status == StepStatus.STOPPED:
        return (f"Step {number} of the care plan is stopped at its gate and waits for the physician's decision: "
                f"{step.status_note or plan.status_note}").rstrip(": ")
    if step.status in SETTLED:
        return f"Step {number} of the care plan is {step.get_status_display().lower()}; it is not booked again."
    steps = plan_steps(plan)
    mine = next(other for other in steps if other.pk == step.pk)
    words = waits_for(mine, steps)
    return f"Step {number} of the care plan waits for {words}." if words != "its turn" else (
        f"Step {number} of the care plan is not ready to book yet.")


def plan_requirements(order: ProcedureOrder | None, day: dt.date, eligibility: Eligibility) -> None:
    """Add to `eligibility` what the order's care plan asks for a booking on `day`, if the order
    belongs to one."""
    step = step_of_order(order)
    if step is None:
        return
    if step.status not in BOOKABLE or step.plan.status == PlanStatus.ENDED:
        eligibility.unmet.append(Unmet(_sentence(_not_its_turn(step)), kind=PLAN_TURN))
        return
    window = step_window(step, plan_steps(step.plan))
    after = f"{label(window.after)}, on {window.after_day.isoformat()}" if window.after_day else ""
    if window.earliest and day < window.earliest:
        eligibility.unmet.append(Unmet(
            f"Step {step.position} of the care plan comes at least {step.min_days_after} days after {after}: "
            f"the earliest day is {window.earliest.isoformat()}.", earliest=window.earliest, kind=PLAN_TURN))
    if window.latest:
        eligibility.latest = min(eligibility.latest, window.latest) if eligibility.latest else window.latest
        if day > window.latest:
            since = f" (at most {step.max_days_after} days after {after})" if after else ""
            eligibility.unmet.append(Unmet(
                f"Step {step.position} of the care plan is due by {window.latest.isoformat()}{since}; "
                "the physician can change the plan.", kind=PLAN_TURN))


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."
