"""One patient's record as the front desk reads it on the phone: visits, procedures done at other
clinics, open orders and what the pathway rules still need for them (counting both), outcomes, the
waitlist, and the messages sent.

Loaded in a fixed number of queries, however long the patient's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q
from django.utils import timezone

from clinic.models import Location, Patient
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    CarePlan,
    CarePlanStep,
    OrderStatus,
    ProcedureElsewhere,
    PlanStatus,
    StepStatus,
    ProcedureOrder,
    Reminder,
    WaitlistEntry,
    WaitlistStatus,
)
from scheduling.pathways.eligibility import (
    applicable_rules_by_type,
    check_eligibility,
    history_of,
    procedures_elsewhere,
)

# The latest messages shown; older ones are in the reminders list.
REMINDERS_SHOWN = 40


@dataclass
class OrderLine:
    order: ProcedureOrder
    visit: Appointment | None  # the active visit booked against it
    unmet: list[str] = field(default_factory=list)  # what the rules still need, as of today
    allowed_from: dt.date | None = None  # when waiting alone satisfies them


@dataclass
class PastLine:
    """One line of the patient's past, most recent first: a visit here or a procedure done elsewhere."""

    day: dt.date
    visit: Appointment | None = None
    elsewhere: ProcedureElsewhere | None = None


@dataclass
class PlanStepLine:
    step: CarePlanStep
    day: dt.date | None  # the visit's local day, the day done, or the proposed day
    visit: Appointment | None = None


@dataclass
class PlanLine:
    plan: CarePlan
    steps: list[PlanStepLine]
    next: PlanStepLine | None  # the step ready to book or do, else the first still planned


@dataclass
class PatientOverview:
    upcoming: list[Appointment]  # still to happen or under way, soonest first
    past: list[Appointment]  # done, cancelled, missed, most recent first
    elsewhere: list[ProcedureElsewhere]  # done at other clinics, most recent first
    orders: list[OrderLine]
    outcomes: list[Appointment]  # visits with an outcome, most recent first
    waitlist: list[WaitlistEntry]
    reminders: list[Reminder]
    zone: ZoneInfo  # for a message about an order, which has no location of its own
    care_plans: list[PlanLine] = field(default_factory=list)  # open plans first, then the newest

    @property
    def past_lines(self) -> list[PastLine]:
        """The visits here that are past, and the procedures done elsewhere, together by date."""
        lines = [PastLine(visit.procedure_start.astimezone(visit.location.zone).date(), visit=visit)
                 for visit in self.past]
        lines += [PastLine(outside.day, elsewhere=outside) for outside in self.elsewhere]
        return sorted(lines, key=lambda line: line.day, reverse=True)


def patient_overview(patient: Patient, *, now: dt.datetime | None = None) -> PatientOverview:
    now = now or timezone.now()
    visits = list(
        Appointment.objects.filter(patient=patient)
        .select_related("location", "physician__user", "room", "procedure_type", "order", "outcome",
                        "waitlist_entry")
        .order_by("procedure_start", "pk")
    )
    upcoming = [visit for visit in visits if visit.status in ACTIVE_STATUSES and visit.discharge >= now]
    upcoming_ids = {visit.pk for visit in upcoming}
    past = [visit for visit in reversed(visits) if visit.pk not in upcoming_ids]
    waitlist = []
    for visit in visits:
        entry = getattr(visit, "waitlist_entry", None)
        if entry is not None:
            entry.appointment = visit
            waitlist.append(entry)
    waitlist.sort(key=lambda entry: (entry.status != WaitlistStatus.WAITING, -entry.created_at.timestamp()))

    elsewhere = procedures_elsewhere(patient)
    location = Location.objects.filter(is_active=True).order_by("pk").first()
    zone = location.zone if location else timezone.get_current_timezone()
    return PatientOverview(
        upcoming=upcoming,
        past=past,
        elsewhere=elsewhere,
        orders=_open_orders(patient, visits, elsewhere, today=now.astimezone(zone).date()),
        outcomes=[visit for visit in reversed(visits) if getattr(visit, "outcome", None) is not None],
        waitlist=waitlist,
        reminders=list(
            Reminder.objects.filter(Q(appointment__patient=patient) | Q(order__patient=patient))
            .select_related("appointment__location", "appointment__procedure_type", "order__procedure_type")
            .order_by("-due_at", "-pk")[:REMINDERS_SHOWN]
        ),
        zone=zone,
        care_plans=_care_plans(patient, visits),
    )


def _care_plans(patient: Patient, visits: list[Appointment]) -> list[PlanLine]:
    """The patient's care plans, each step with its day: the day of its visit (from the visits
    already loaded), the day it was done elsewhere, or the day proposed for it."""
    plans = list(CarePlan.objects.filter(patient=patient).select_related("physician__user").prefetch_related(
        Prefetch("steps", queryset=CarePlanStep.objects.select_related("procedure_type").order_by("position"))))
    by_order: dict[int, Appointment] = {}
    for visit in visits:  # in procedure order: a later visit of the order (a rebooking) wins
        if visit.order_id and (visit.status in ACTIVE_STATUSES or visit.status == "completed"):
            by_order[visit.order_id] = visit
    lines = []
    for plan in plans:
        steps = []
        for step in plan.steps.all():
            visit = by_order.get(step.order_id) if step.status in (StepStatus.BOOKED, StepStatus.DONE) else None
            if visit is not None:
                day = visit.procedure_start.astimezone(visit.location.zone).date()
            elif step.status == StepStatus.DONE:
                day = step.done_on
            else:
                day = step.proposed_date if step.status in (StepStatus.PLANNED, StepStatus.READY) else None
            steps.append(PlanStepLine(step=step, day=day, visit=visit))
        upcoming = [line for line in steps if line.step.status in (StepStatus.READY, StepStatus.BOOKED,
                                                                   StepStatus.STOPPED)]
        planned = [line for line in steps if line.step.status == StepStatus.PLANNED]
        following = (upcoming or planned or [None])[0]
        lines.append(PlanLine(plan=plan, steps=steps, next=following))
    open_first = {PlanStatus.ACTIVE: 0, PlanStatus.NEEDS_DECISION: 0}
    lines.sort(key=lambda line: (open_first.get(line.plan.status, 1), -line.plan.created_at.timestamp()))
    return lines


def _open_orders(patient: Patient, visits: list[Appointment], elsewhere: list[ProcedureElsewhere], *,
                 today: dt.date) -> list[OrderLine]:
    """The open orders, each with its booked visit or what the one eligibility check says today."""
    orders = list(
        ProcedureOrder.objects.filter(patient=patient, status=OrderStatus.OPEN)
        .select_related("procedure_type", "ordering_physician__user")
        .order_by("created_at", "pk")
    )
    if not orders:
        return []
    booked = {visit.order_id: visit for visit in visits if visit.order_id and visit.status in ACTIVE_STATUSES}
    rules = applicable_rules_by_type({order.procedure_type for order in orders}, patient.payer_id)
    history = history_of(visits, elsewhere)
    lines = []
    for order in orders:
        line = OrderLine(order=order, visit=booked.get(order.pk))
        if line.visit is None:
            eligibility = check_eligibility(patient=patient, procedure_type=order.procedure_type, order=order,
                                            day=today, history=history, rules=rules[order.procedure_type_id])
            line.unmet = [item.message for item in eligibility.unmet]
            line.allowed_from = eligibility.earliest
        lines.append(line)
    return lines
