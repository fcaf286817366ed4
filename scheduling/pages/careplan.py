"""The patient's care plan on their visit page, in plain words: what comes next and what it waits
for ("after your diary shows how today's treatment worked", "at least 14 days after this visit",
"once your insurer approves it"). No procedure, diagnosis or outcome figure is named: a step is a
treatment visit, a follow-up, physical therapy; the details stay with the clinic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scheduling.careplans.gates import GateState, Waits, gate_answer
from scheduling.diary.prompts import has_diary
from scheduling.careplans.steps import GONE, SETTLED, plan_steps, previous_step, step_visit
from scheduling.models import (
    Appointment,
    CarePlan,
    CarePlanStep,
    Gate,
    PlanStatus,
    Reminder,
    ReminderKind,
    StepKind,
    StepStatus,
)

SHOWN = (PlanStatus.ACTIVE, PlanStatus.NEEDS_DECISION)


@dataclass
class PlanLine:
    number: int
    what: str
    state: str  # what is happening with it, one short sentence
    waits: list[str] = field(default_factory=list)  # what it waits for
    this_visit: bool = False


@dataclass
class PlanSection:
    lines: list[PlanLine]
    total: int
    this_number: int | None  # the number of this visit's step in the plan


def _what(step: CarePlanStep) -> str:
    words = {
        StepKind.PROCEDURE: _("A treatment visit"),
        StepKind.CONSULTATION: _("A visit with your doctor"),
        StepKind.FOLLOW_UP: _("A follow-up visit"),
        StepKind.PHYSICAL_THERAPY: _("Physical therapy"),
        StepKind.PSYCH_EVALUATION: _("An assessment with a specialist"),
        StepKind.IMAGING: _("A scan"),
    }[step.kind]
    if step.laterality == "left":
        return _("%(what)s (left side)") % {"what": words}
    if step.laterality == "right":
        return _("%(what)s (right side)") % {"what": words}
    return words


def _day(day: dt.date) -> str:
    return date_format(day, _("l, F j, Y"))


def _this_visit_words(visit: Appointment, today: dt.date) -> str:
    if not has_diary(visit.procedure_type):  # no diary after this procedure (an SCS trial)
        if step_visit_day(visit) == today:
            return _("after your care team knows how today's treatment worked")
        return _("after your care team knows how the treatment at this visit worked")
    if step_visit_day(visit) == today:
        return _("after your diary shows how today's treatment worked")
    return _("after your diary shows how the treatment at this visit worked")


def step_visit_day(visit: Appointment) -> dt.date:
    return visit.procedure_start.astimezone(visit.location.zone).date()


def _waits(step: CarePlanStep, steps: list[CarePlanStep], mine: CarePlanStep | None, visit: Appointment,
           today: dt.date) -> list[str]:
    """What a planned step waits for, in the patient's words."""
    waits = []
    previous = previous_step(step, steps)
    after_this_visit = mine is not None and previous is not None and previous.pk == mine.pk
    if step.gate == Gate.RELIEF:
        answer = gate_answer(step, steps)
        if answer.state == GateState.WAITING and answer.judged is not None:
            if mine is not None and answer.judged.pk == mine.pk:
                waits.append(_this_visit_words(visit, today))
            elif has_diary(answer.judged.procedure_type):
                waits.append(_("after your diary shows how the treatment before it worked"))
            else:
                waits.append(_("after your care team knows how the treatment before it worked"))
    elif step.gate == Gate.PSYCH_EVALUATION and gate_answer(step, steps).waits == Waits.EVALUATION:
        waits.append(_("once your assessment is on file"))
    elif step.gate == Gate.PRIOR_AUTHORIZATION and gate_answer(step, steps).waits == Waits.AUTHORIZATION:
        waits.append(_("once your insurer approves it"))
    if not waits and not step.min_days_after and previous is not None and previous.status not in SETTLED:
        waits.append(_("after this visit") if after_this_visit else _("after the step before it"))
    if step.min_days_after:
        if after_this_visit:
            waits.append(ngettext("at least %(days)d day after this visit", "at least %(days)d days after this visit",
                                  step.min_days_after) % {"days": step.min_days_after})
        else:
            waits.append(ngettext("at least %(days)d day after the step before it",
                                  "at least %(days)d days after the step before it",
                                  step.min_days_after) % {"days": step.min_days_after})
    return waits


def _state(step: CarePlanStep, plan: CarePlan, mine: CarePlanStep | None, linked: set[int]) -> str:
    if mine is not None and step.pk == mine.pk:
        return _("This visit.")
    if step.status == StepStatus.STOPPED:
        return _("Your doctor will talk with you about what comes next.")
    if step.status == StepStatus.BOOKED:
        visit = step_visit(step)
        if visit is not None:
            return _("Booked for %(day)s.") % {"day": _day(step_visit_day(visit))}
        return _("Booked.")
    if step.status == StepStatus.READY:
        if not step.booked_here:
            return _("Its turn has come: please arrange it as your doctor asked.")
        if step.order_id in linked:
            return _("You can book it now: we have sent you a link.")
        return _("You can book it now: please call us.")
    if step.proposed_date:
        if step.tentative:
            return _("Planned for around %(day)s, if all goes well.") % {"day": _day(step.proposed_date)}
        return _("Planned for around %(day)s.") % {"day": _day(step.proposed_date)}
    return _("Planned.")


def _plan_for(appointment: Appointment) -> tuple[CarePlan | None, CarePlanStep | None]:
    if appointment.order_id:
        mine = CarePlanStep.objects.select_related("plan").filter(order_id=appointment.order_id).first()
        if mine is not None:
            return (mine.plan, mine) if mine.plan.status in SHOWN else (None, None)
    plan = CarePlan.objects.filter(patient_id=appointment.patient_id, status__in=SHOWN).order_by("-created_at").first()
    return plan, None


def plan_section(appointment: Appointment) -> PlanSection | None:
    """The patient's plan as their visit page shows it: this visit's plan (else their open plan),
    from this visit's step on; None when they have no open plan."""
    plan, mine = _plan_for(appointment)
    if plan is None:
        return None
    steps = [step for step in plan_steps(plan) if step.status not in GONE]
    today = timezone.now().astimezone(appointment.location.zone).date()
    linked = set(Reminder.objects.filter(order_id__in=[step.order_id for step in steps if step.order_id],
                                         kind=ReminderKind.ORDER_BOOKING_LINK).values_list("order_id", flat=True))
    lines = []
    for number, step in enumerate(steps, start=1):
        is_mine = mine is not None and step.pk == mine.pk
        if step.status in SETTLED and not is_mine:
            continue
        waits = _waits(step, steps, mine, appointment, today) if step.status == StepStatus.PLANNED else []
        lines.append(PlanLine(number=number, what=_what(step), state=_state(step, plan, mine, linked), waits=waits,
                              this_visit=is_mine))
        if step.status == StepStatus.STOPPED:
            break  # what comes after it is the doctor's decision
    this_number = next((line.number for line in lines if line.this_visit), None)
    return PlanSection(lines=lines, total=len(steps), this_number=this_number)
