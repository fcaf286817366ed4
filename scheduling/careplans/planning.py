"""The database side of a plan's timeline: what `timeline.propose` asks, answered for one plan.

The free days come from the availability engine (one search per step over its window, at each
location where the plan's physician works the step's kind of block); the rules from the one
eligibility check, on the patient's history with the plan's earlier steps counted as done on
their days, with a relief that passes the gates after them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from django.utils import timezone

from clinic.models import Location, ProcedureType
from scheduling.careplans.steps import anchor_day, plan_steps, step_visit, visit_day
from scheduling.careplans.timeline import PlanStep, Placed, Proposal, Refusal, State, propose
from scheduling.careplans.turns import PLAN_TURN
from scheduling.models import (
    ACTIVE_STATUSES,
    HOLDING_STATUSES,
    Appointment,
    CarePlan,
    CarePlanStep,
    Gate,
    RuleKind,
    StepStatus,
)
from scheduling.pathways.eligibility import applicable_rules, check_eligibility, patient_history
from scheduling.pathways.rules import Eligibility, PastProcedure
from scheduling.selectors import available_slots

ASSUMED_RELIEF = 100  # a step followed by a relief gate is planned as if that gate passes
_RULE_KINDS = frozenset(RuleKind.values)
_STATE = {StepStatus.PLANNED: State.OPEN, StepStatus.READY: State.OPEN, StepStatus.BOOKED: State.FIXED,
          StepStatus.DONE: State.FIXED, StepStatus.STOPPED: State.STOPPED, StepStatus.SKIPPED: State.LEFT_OUT,
          StepStatus.CANCELLED: State.LEFT_OUT}


def _label(step: CarePlanStep) -> str:
    return step.procedure_type.name if step.procedure_type_id else step.get_kind_display()


def as_plan_steps(steps: Sequence[CarePlanStep]) -> list[PlanStep]:
    result = []
    for step in steps:
        state = _STATE[step.status]
        fixed_day = anchor_day(step) if state is State.FIXED else None
        if state is State.FIXED and fixed_day is None:
            state = State.LEFT_OUT  # done without a day: nothing to anchor the next step to
        result.append(PlanStep(
            position=step.position, label=_label(step), booked_here=step.booked_here,
            min_days_after=step.min_days_after, max_days_after=step.max_days_after,
            gate_ahead=step.gate != Gate.NONE and step.status == StepStatus.PLANNED,
            state=state, fixed_day=fixed_day))
    return result


class PlanInputs:
    """What the timeline of one plan asks of the database, loaded once and kept for the walk."""

    def __init__(self, plan: CarePlan, steps: list[CarePlanStep], *, now: dt.datetime):
        self.plan, self.now = plan, now
        self.steps = {step.position: step for step in steps}
        self.patient = plan.patient
        visits = list(Appointment.objects.filter(patient=self.patient, status__in=HOLDING_STATUSES)
                      .select_related("procedure_type", "order", "location", "outcome")
                      .order_by("procedure_start"))
        self.busy_days = {visit_day(visit) for visit in visits if visit.status in ACTIVE_STATUSES}
        self.history = patient_history(self.patient)
        # Relief is assumed for a step whose next step (skipped ones aside) has a relief gate.
        chain = [step for step in steps if step.status not in (StepStatus.SKIPPED, StepStatus.CANCELLED)]
        self.gated_after = {earlier.position for earlier, later in zip(chain, chain[1:]) if later.gate == Gate.RELIEF}
        self.plan_visits = {visit.pk: step.position for step in steps
                            if (visit := step_visit(step)) is not None}
        self._rules: dict[int, list] = {}
        self._locations: dict[str, list[Location]] = {}

    @property
    def zone(self):
        locations = self.locations_for(None)
        return locations[0].zone if locations else timezone.get_current_timezone()

    def today(self) -> dt.date:
        return self.now.astimezone(self.zone).date()

    def locations_for(self, procedure_type: ProcedureType | None) -> list[Location]:
        """Where the plan's physician works blocks of the step's kind (any kind for None)."""
        kind = procedure_type.schedule_kind if procedure_type is not None else ""
        if kind not in self._locations:
            blocks = {"schedule_blocks__physician": self.plan.physician}
            if kind:
                blocks["schedule_blocks__kind"] = kind
            found = list(Location.objects.filter(is_active=True, **blocks).distinct().order_by("pk"))
            self._locations[kind] = found or list(Location.objects.filter(is_active=True).order_by("pk")[:1])
        return self._locations[kind]

    def free_days(self, plan_step: PlanStep, first: dt.date, last: dt.date) -> set[dt.date]:
        step = self.steps[plan_step.position]
        days: set[dt.date] = set()
        for location in self.locations_for(step.procedure_type):
            slots = available_slots(procedure_type=step.procedure_type, location=location, first_day=first,
                                    last_day=last, now=self.now, physician=self.plan.physician,
                                    patient=self.patient, beyond_horizon=True)
            days |= {slot.start.astimezone(location.zone).date() for slot in slots}
        return days

    def rules(self, step: CarePlanStep) -> list:
        if step.procedure_type_id not in self._rules:
            self._rules[step.procedure_type_id] = applicable_rules(step.procedure_type, self.patient.payer_id)
        return self._rules[step.procedure_type_id]

    def simulated_history(self, placed: Sequence[Placed]) -> list[PastProcedure]:
        """The patient's history with the plan's earlier steps done on their days: a visit of the
        plan without a recorded relief, and each step only placed, counts with the relief its
        next gate asks for."""
        def relief(position: int, recorded: int | None) -> int | None:
            if recorded is not None:
                return recorded
            return ASSUMED_RELIEF if position in self.gated_after else None

        placed_positions = {item.step.position for item in placed}
        history = []
        for past in self.history:
            position = self.plan_visits.get(past.appointment_id)
            if position is not None and position in placed_positions:
                past = dataclasses.replace(past, completed=True, relief_percent=relief(position, past.relief_percent))
            history.append(past)
        for item in placed:
            step = self.steps[item.step.position]
            if item.step.state is State.FIXED or not step.booked_here:
                continue
            history.append(PastProcedure(
                appointment_id=0, procedure_type_id=step.procedure_type_id, family=step.procedure_type.family,
                region=step.region, laterality=step.laterality, day=item.day, completed=True,
                relief_percent=relief(step.position, None)))
        return sorted(history, key=lambda past: past.day)

    def eligibility(self, step: CarePlanStep, day: dt.date, placed: Sequence[Placed]) -> Eligibility:
        return check_eligibility(patient=self.patient, procedure_type=step.procedure_type, order=step.order,
                                 day=day, history=self.simulated_history(placed), rules=self.rules(step))

    def refusal(self, plan_step: PlanStep, day: dt.date, placed: Sequence[Placed]) -> Refusal | None:
        """Why the rules refuse the day: the pathway rules, and of the order's own requirements
        those that are dates (an authorization's validity). What the order still lacks (an
        authorization to request, an evaluation to record) is said in the step's note instead:
        staff get it before the step's turn comes."""
        step = self.steps[plan_step.position]
        eligibility = self.eligibility(step, day, placed)
        if eligibility.latest is not None and day > eligibility.latest:
            return Refusal(f"the order's prior authorization ends on {eligibility.latest.isoformat()}.")
        blocking = [item for item in eligibility.unmet if item.kind in _RULE_KINDS or item.earliest is not None]
        if not blocking:
            return None
        earliest = max(item.earliest for item in blocking) if all(item.earliest for item in blocking) else None
        return Refusal(" ".join(item.message for item in blocking), earliest)

    def order_needs(self, step: CarePlanStep, day: dt.date, placed: Sequence[Placed]) -> list[str]:
        """What the step's order still lacks on its proposed day (not the pathway rules)."""
        if not step.booked_here or step.order_id is None:
            return []
        eligibility = self.eligibility(step, day, placed)
        return [item.message for item in eligibility.unmet
                if item.kind not in _RULE_KINDS and item.kind != PLAN_TURN and item.earliest is None]


def plan_proposals(plan: CarePlan, *, now: dt.datetime | None = None,
                   steps: list[CarePlanStep] | None = None) -> tuple[list[Proposal], dict[int, str]]:
    """The proposed timeline of the plan's open steps, and what each step's order still lacks."""
    steps = steps if steps is not None else plan_steps(plan)
    inputs = PlanInputs(plan, steps, now=now or timezone.now())
    walk = as_plan_steps(steps)
    proposals = propose(walk, today=inputs.today(), physician=plan.physician.name, free_days=inputs.free_days,
                        refusal=inputs.refusal, busy_days=inputs.busy_days)
    # The order's own needs, on each proposed day, with the steps before it placed as proposed.
    by_position = {proposal.position: proposal for proposal in proposals}
    placed: list[Placed] = []
    needs: dict[int, str] = {}
    for plan_step in walk:
        day = plan_step.fixed_day if plan_step.state is State.FIXED else getattr(
            by_position.get(plan_step.position), "day", None)
        if plan_step.state is State.OPEN and day is not None:
            needs[plan_step.position] = " ".join(inputs.order_needs(inputs.steps[plan_step.position], day, placed))
        if day is not None and plan_step.state in (State.OPEN, State.FIXED):
            placed.append(Placed(plan_step, day))
    return proposals, needs
