"""Creating a care plan: from each demo template or from steps, with an order per step booked
here, the first step ready, and the timeline proposed (scheduling/services/careplans.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import ProcedureType
from scheduling.errors import BookingError
from scheduling.models import CarePlanTemplate, Gate, OrderStatus, StepKind, StepStatus
from scheduling.services.careplans import plan_create, plan_replan
from tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db

TEMPLATES = ["Lumbar facet pathway", "Spinal cord stimulation", "Epidural steroid injection series",
             "Vertebral augmentation"]


def template(name: str) -> CarePlanTemplate:
    return CarePlanTemplate.objects.get(name=name)


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_plan_from_each_demo_template_copies_its_steps_orders_each_step_booked_here_and_readies_the_first(
        calendar, practising_physician, name):
    patient = calendar.patients[0]
    plan = plan_create(patient=patient, physician=calendar.okafor, template=template(name), by=practising_physician)
    steps = list(plan.steps.order_by("position"))
    copied = list(template(name).steps.order_by("position"))
    assert [(s.kind, s.procedure_type_id, s.min_days_after, s.max_days_after, s.gate) for s in steps] == [
        (s.kind, s.procedure_type_id, s.min_days_after, s.max_days_after, s.gate) for s in copied]
    assert plan.name == name and plan.created_by == practising_physician
    for step in steps:
        if step.booked_here:
            assert step.order.status == OrderStatus.OPEN
            assert (step.order.patient, step.order.procedure_type_id) == (patient, step.procedure_type_id)
            assert (step.order.region, step.order.laterality, step.order.priority) == (
                step.region, step.laterality, step.priority)
            assert step.order.ordering_physician == calendar.okafor
            assert f"Step {step.position} of care plan #{plan.pk}" in step.order.notes
        else:
            assert step.order is None
    assert steps[0].status == StepStatus.READY
    assert [step.status for step in steps[1:]] == [StepStatus.PLANNED] * (len(steps) - 1)
    assert steps[0].proposed_date is not None


def test_the_facet_pathway_is_proposed_on_the_physicians_procedure_days_with_its_waits(calendar, physician_user):
    plan = plan_create(patient=calendar.patients[1], physician=calendar.okafor,
                       template=template("Lumbar facet pathway"), by=physician_user)
    first, second, left, right = plan.steps.order_by("position")
    # Dr. Okafor does procedures on Mondays and Wednesdays; now is Tuesday 24 November.
    assert first.proposed_date == dt.date(2026, 11, 25) and not first.tentative
    assert second.window_start == first.proposed_date + dt.timedelta(days=7)
    assert second.window_end == first.proposed_date + dt.timedelta(days=21)
    assert second.proposed_date == dt.date(2026, 12, 2) and second.tentative
    assert left.proposed_date > second.proposed_date and left.tentative
    assert left.proposed_date.weekday() in (0, 2)
    assert right.tentative and right.window_start == left.proposed_date + dt.timedelta(days=14)


def test_the_scs_trial_waits_for_its_evaluation_and_the_implant_comes_14_to_90_days_after(calendar, physician_user):
    plan = plan_create(patient=calendar.patients[2], physician=calendar.okafor,
                       template=template("Spinal cord stimulation"), by=physician_user)
    evaluation, trial, implant = plan.steps.order_by("position")
    assert evaluation.kind == StepKind.PSYCH_EVALUATION and evaluation.status == StepStatus.READY
    assert evaluation.proposed_date == dt.date(2026, 11, 24)  # done elsewhere: the wait alone
    assert trial.tentative and trial.gate == Gate.PSYCH_EVALUATION
    assert "psychological evaluation" in trial.planning_note
    assert implant.window_start == trial.proposed_date + dt.timedelta(days=14)
    assert implant.window_end == trial.proposed_date + dt.timedelta(days=90)
    assert implant.window_start <= implant.proposed_date <= implant.window_end


def test_a_plan_from_steps_starting_with_a_gate_that_cannot_pass_yet_is_not_ready(calendar, physician_user):
    trial = ProcedureType.objects.get(code="SCS_TRIAL")
    plan = plan_create(patient=calendar.patients[3], physician=calendar.okafor, name="Trial only",
                       steps=[{"kind": StepKind.PROCEDURE, "procedure_type": trial, "gate": Gate.PSYCH_EVALUATION}],
                       by=physician_user)
    step = plan.steps.get()
    assert step.status == StepStatus.PLANNED and "psychological evaluation" in step.status_note


def test_a_plan_needs_a_template_or_steps_and_valid_steps(calendar, physician_user):
    patient = calendar.patients[0]
    with pytest.raises(BookingError, match="template or from its steps"):
        plan_create(patient=patient, physician=calendar.okafor, by=physician_user)
    with pytest.raises(BookingError, match="Step 2: Choose the procedure type"):
        plan_create(patient=patient, physician=calendar.okafor, by=physician_user,
                    steps=[{"procedure_type": calendar.esi}, {"kind": StepKind.PROCEDURE}])
    with pytest.raises(BookingError, match="longest wait"):
        plan_create(patient=patient, physician=calendar.okafor, by=physician_user,
                    steps=[{"procedure_type": calendar.esi, "min_days_after": 10, "max_days_after": 5}])
    assert not patient.care_plans.exists()


def test_a_step_is_not_proposed_on_a_day_the_patient_has_another_visit_and_replanning_sees_it_go(
        calendar, front_desk):
    from scheduling import services
    from tests.conftest import local

    patient = calendar.patients[4]
    # A consultation with Dr. Nair on Wednesday 25 November, Dr. Okafor's next procedure day.
    consult = services.appointment_book(patient=patient, procedure_type=calendar.consult, physician=calendar.nair,
                                        start=local(dt.date(2026, 11, 25), 14), by=front_desk)
    plan = plan_create(patient=patient, physician=calendar.okafor, by=front_desk,
                       steps=[{"procedure_type": calendar.esi, "region": "lumbar"}])
    assert plan.steps.get().proposed_date == NEXT_MONDAY
    services.appointment_cancel(appointment=consult, reason="Feeling better", by=front_desk)
    plan_replan(plan)
    assert plan.steps.get().proposed_date == dt.date(2026, 11, 25)


@pytest.mark.parametrize("steps", [
    [{"procedure_type": "mbb", "gate": Gate.RELIEF}],  # a relief gate on the first step
    [{"kind": StepKind.PHYSICAL_THERAPY}, {"procedure_type": "mbb", "gate": Gate.RELIEF}],  # nothing booked here before
])
def test_a_relief_gate_with_no_step_booked_here_before_it_is_refused(calendar, physician_user, steps):
    steps = [{**values, "procedure_type": getattr(calendar, values["procedure_type"])} if "procedure_type" in values
             else values for values in steps]
    with pytest.raises(BookingError, match=r"Step \d goes ahead on the relief from an earlier step booked here, "
                                           "but no step before it is booked here"):
        plan_create(patient=calendar.patients[0], physician=calendar.okafor, by=physician_user, steps=steps)
    assert not calendar.patients[0].care_plans.exists()
