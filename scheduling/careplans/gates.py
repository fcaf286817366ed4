"""Does a care-plan step's gate let it go ahead? Each answer in words staff can act on.

A gate is one of: the previous step's relief at or above a threshold; a psychological
evaluation on file; prior authorization approved (DESIGN.md section 4). The answer passes,
fails (the plan stops there and the physician decides) or waits (nothing to judge by yet).

The relief threshold is the step's own; when it has none, what the patient's payer asks in the
pathway rules of the plan's procedures (RFA's prerequisite rule: 80% for Medicare, 50% for the
others; an epidural's repeat rule: 50%); when no rule says, 50%, the usual threshold.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from scheduling.careplans.steps import capital_label, label, previous_booked_here, step_visit
from scheduling.models import AuthorizationStatus, CarePlanStep, Gate, RuleKind, StepKind, StepStatus

USUAL_RELIEF_PERCENT = 50


class GateState(enum.Enum):
    PASSED = "passed"
    WAITING = "waiting"
    FAILED = "failed"


class Waits(enum.Enum):
    """What a waiting gate waits for: the patient's visit page words it from this."""

    VISIT = "visit"  # the step whose relief is judged has not happened yet
    RELIEF = "relief"  # it happened; its relief is not recorded yet
    EVALUATION = "evaluation"
    AUTHORIZATION = "authorization"


@dataclass(frozen=True)
class GateAnswer:
    state: GateState
    words: str
    relief_percent: int | None = None
    threshold: int | None = None
    waits: Waits | None = None
    awaiting: str = ""  # what a waiting gate waits for, to end "... waits for": "a psychological evaluation"
    judged: CarePlanStep | None = None  # the step whose relief was judged

    @property
    def passed(self) -> bool:
        return self.state == GateState.PASSED

    @property
    def failed(self) -> bool:
        return self.state == GateState.FAILED


@dataclass(frozen=True)
class Threshold:
    percent: int
    words: str  # who asks for it: "Medicare asks for 80%"


def relief_threshold(step: CarePlanStep, judged: CarePlanStep, steps: list[CarePlanStep]) -> Threshold:
    """The relief `judged` must have given for `step` to go ahead (see the module's docstring)."""
    from scheduling.pathways.eligibility import applicable_rules_by_type  # the one check imports the plans

    if step.gate_relief_percent is not None:
        return Threshold(step.gate_relief_percent, f"the plan asks for {step.gate_relief_percent}%")
    patient = step.plan.patient
    types = {other.procedure_type for other in steps if other.procedure_type_id}
    candidates = []
    if judged.procedure_type_id and types:
        for type_id, rules in applicable_rules_by_type(types, patient.payer_id).items():
            for rule in rules:
                if rule.min_relief_percent is None:
                    continue
                # "RFA needs two blocks with 80% each": the blocks of the plan are judged by it.
                if rule.kind == RuleKind.PREREQUISITE and judged.procedure_type_id in {
                        prior.pk for prior in rule.prerequisite_types.all()}:
                    candidates.append(rule)
                # "A repeat epidural needs 50% from the last one": a series is judged by it.
                elif (rule.kind == RuleKind.REPEAT_RELIEF and type_id == step.procedure_type_id
                      and judged.procedure_type.family == step.procedure_type.family):
                    candidates.append(rule)
    if not candidates:
        return Threshold(USUAL_RELIEF_PERCENT, f"{USUAL_RELIEF_PERCENT}% is the usual threshold")
    rule = max(candidates, key=lambda rule: (rule.min_relief_percent, rule.payer_id is not None))
    if rule.payer_id:
        return Threshold(rule.min_relief_percent, f"{patient.payer.name} asks for {rule.min_relief_percent}%")
    return Threshold(rule.min_relief_percent, f"the pathway rules ask for {rule.min_relief_percent}%")


def _relief(step: CarePlanStep, steps: list[CarePlanStep]) -> GateAnswer:
    judged = previous_booked_here(step, steps)
    if judged is None:
        return GateAnswer(GateState.FAILED, f"{capital_label(step)} goes ahead on the relief of an earlier step "
                                            "done here, and there is none before it.")
    if judged.status != StepStatus.DONE:
        return GateAnswer(GateState.WAITING, f"{capital_label(judged)} has not happened yet.",
                          waits=Waits.VISIT, judged=judged,
                          awaiting=f"{label(judged)} to be done and its relief recorded")
    visit = step_visit(judged)
    outcome = getattr(visit, "outcome", None) if visit is not None else None
    if outcome is None:
        return GateAnswer(GateState.WAITING, f"The relief from {label(judged)} is not recorded yet.",
                          waits=Waits.RELIEF, judged=judged, awaiting=f"the relief from {label(judged)} to be recorded")
    threshold = relief_threshold(step, judged, steps)
    state = GateState.PASSED if outcome.relief_percent >= threshold.percent else GateState.FAILED
    return GateAnswer(state, f"{capital_label(judged)} gave {outcome.relief_percent}% relief; {threshold.words}.",
                      relief_percent=outcome.relief_percent, threshold=threshold.percent, judged=judged)


def _psych_evaluation(step: CarePlanStep, steps: list[CarePlanStep]) -> GateAnswer:
    if step.order_id and step.order.psych_evaluation_date:
        return GateAnswer(GateState.PASSED, "A psychological evaluation is on file "
                                            f"({step.order.psych_evaluation_date.isoformat()}).")
    done = [other for other in steps if other.position < step.position and other.status == StepStatus.DONE
            and other.kind == StepKind.PSYCH_EVALUATION]
    if done:
        when = f" on {done[-1].done_on.isoformat()}" if done[-1].done_on else ""
        return GateAnswer(GateState.PASSED, f"The psychological evaluation ({label(done[-1])}) was done{when}.")
    return GateAnswer(GateState.WAITING, "No psychological evaluation is on file yet.", waits=Waits.EVALUATION,
                      awaiting="a psychological evaluation on file")


def _prior_authorization(step: CarePlanStep) -> GateAnswer:
    payer = step.plan.patient.payer
    procedure_type = step.procedure_type
    asked = payer is not None and payer.requires_prior_authorization and (
        procedure_type is None or procedure_type.prior_authorization_required)
    if not asked:
        who = payer.name if payer else "The patient's payer"
        return GateAnswer(GateState.PASSED, f"{who} does not ask for prior authorization for this step.")
    order = step.order if step.order_id else None
    state = order.authorization_status if order else AuthorizationStatus.NOT_REQUESTED
    if state == AuthorizationStatus.APPROVED:
        return GateAnswer(GateState.PASSED, f"Prior authorization {order.authorization_number} is approved.")
    if state == AuthorizationStatus.DENIED:
        return GateAnswer(GateState.FAILED, f"{payer.name} denied prior authorization for {label(step)}.")
    words = order.get_authorization_status_display().lower() if order else "not requested"
    return GateAnswer(GateState.WAITING, f"Prior authorization from {payer.name} is {words}.",
                      waits=Waits.AUTHORIZATION, awaiting=f"prior authorization from {payer.name} (it is {words})")


def gate_answer(step: CarePlanStep, steps: list[CarePlanStep]) -> GateAnswer:
    """Whether `step` may go ahead as far as its gate is concerned (`steps`: the whole plan's,
    from `plan_steps`). Whose turn it is is the caller's question."""
    if step.gate == Gate.RELIEF:
        return _relief(step, steps)
    if step.gate == Gate.PSYCH_EVALUATION:
        return _psych_evaluation(step, steps)
    if step.gate == Gate.PRIOR_AUTHORIZATION:
        return _prior_authorization(step)
    return GateAnswer(GateState.PASSED, "No gate.")


def gate_words(step: CarePlanStep, steps: list[CarePlanStep]) -> str:
    """What the step's gate asks, in staff words, with the number a relief gate will use for this
    patient: "relief from step 1 at or above 80% (Medicare asks for 80%)"."""
    if step.gate != Gate.RELIEF:
        return step.get_gate_display().lower()
    judged = previous_booked_here(step, steps)
    if judged is None:
        return "the relief of an earlier step done here, and there is none before it"
    threshold = relief_threshold(step, judged, steps)
    return f"relief from step {judged.position} at or above {threshold.percent}% ({threshold.words})"
