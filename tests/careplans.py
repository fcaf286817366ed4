"""What the care-plan tests share: the demo's pathways as plans for one patient, and a visit
taken from check-in to discharge on its day."""

from __future__ import annotations

import datetime as dt

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.models import CarePlan, CarePlanStep, Gate, StepKind
from scheduling.services.careplans import plan_create
from tests.conftest import local

# (kind, procedure type code, laterality, at least, at most days after the previous step, gate)
FACET = [
    (StepKind.PROCEDURE, "MBB_LUMBAR", "bilateral", 0, None, Gate.NONE),
    (StepKind.PROCEDURE, "MBB_LUMBAR", "bilateral", 7, 21, Gate.RELIEF),
    (StepKind.PROCEDURE, "RFA_LUMBAR", "left", 0, None, Gate.RELIEF),
    (StepKind.PROCEDURE, "RFA_LUMBAR", "right", 14, None, Gate.NONE),
]
SCS = [
    (StepKind.PSYCH_EVALUATION, None, "", 0, None, Gate.NONE),
    (StepKind.PROCEDURE, "SCS_TRIAL", "", 0, 60, Gate.PSYCH_EVALUATION),
    (StepKind.PROCEDURE, "SCS_IMPLANT", "", 14, 90, Gate.RELIEF),
]


def patient_with(payer_name: str) -> Patient:
    """A patient of that payer on no blood thinner (no hold keeps them from the next days)."""
    return Patient.objects.filter(payer__name=payer_name, blood_thinners__isnull=True).order_by("pk").first()


def make_plan(calendar, patient, steps=FACET, *, name="Lumbar facet pathway", region="lumbar", by=None) -> CarePlan:
    """A plan for the patient with Dr. Okafor, made by the plan service: an order for each step
    booked here, the first step ready."""
    return plan_create(patient=patient, physician=calendar.okafor, name=name, by=by, steps=[
        {"kind": kind, "procedure_type": ProcedureType.objects.get(code=code) if code else None,
         "region": region if code else "", "laterality": laterality, "min_days_after": least,
         "max_days_after": most, "gate": gate}
        for kind, code, laterality, least, most, gate in steps])


def step(plan: CarePlan, position: int) -> CarePlanStep:
    return plan.steps.get(position=position)


def book_step(calendar, plan, position: int, day: dt.date, hour: int = 8, by=None):
    found = step(plan, position)
    return services.appointment_book(patient=plan.patient, procedure_type=found.procedure_type,
                                     physician=calendar.okafor, start=local(day, hour), order=found.order,
                                     by=by)


def take_through(visit, clock, by=None):
    """The visit's day: checked in, started (checks on paper), discharged."""
    clock.move_to(visit.procedure_start - dt.timedelta(minutes=20))
    services.appointment_check_in(appointment=visit, by=by)
    services.appointment_start(appointment=visit, by=by, reason="Checks recorded on paper")
    return services.appointment_complete(appointment=visit, by=by)


def relief(visit, percent: int, by=None):
    return services.outcome_record(appointment=visit, pain_before=8, pain_after=2, relief_percent=percent, by=by)
