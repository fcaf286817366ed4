"""The one eligibility check: may this patient have this procedure on this day?

Booking (admin, API, booking pages) and availability all ask here. The answer is either
eligible or every unmet requirement in plain words: the order's own requirements (prior
authorization, imaging, psychological evaluation, and for an order made for a care-plan step,
the plan's turn and waits) and the pathway rules of the procedure type, a payer's rule of a kind
taking the place of the all-payer one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Exists, OuterRef

from clinic.models import Patient, ProcedureType
from scheduling import catalog, rows
from scheduling.careplans.turns import plan_requirements
from scheduling.models import (
    ACTIVE_STATUSES,
    HOLDING_STATUSES,
    Appointment,
    AuthorizationStatus,
    PathwayRule,
    ProcedureElsewhere,
    ProcedureOrder,
)
from scheduling.pathways.rules import Eligibility, PastProcedure, Rule, Unmet, evaluate


def applicable_rules_by_type(procedure_types, payer_id: int | None) -> dict[int, list[PathwayRule]]:
    """Active rules per procedure type (by id): per kind, the payer's own rule, else the all-payer
    one. From the catalog held in memory (scheduling/catalog.py): no query."""
    held = catalog.current().rules
    chosen: dict[int, dict[str, PathwayRule]] = defaultdict(dict)
    for procedure_type in procedure_types:
        for rule in held.get(procedure_type.pk, ()):
            if rule.payer_id not in (None, payer_id):
                continue
            kinds = chosen[rule.procedure_type_id]
            if rule.kind not in kinds or rule.payer_id is not None:
                kinds[rule.kind] = rule
    return {procedure_type.pk: list(chosen[procedure_type.pk].values()) for procedure_type in procedure_types}


def applicable_rules(procedure_type: ProcedureType, payer_id: int | None) -> list[PathwayRule]:
    """Active rules for the procedure type: per kind, the payer's own rule, else the all-payer one."""
    return applicable_rules_by_type([procedure_type], payer_id)[procedure_type.pk]


def _as_rule(rule: PathwayRule) -> Rule:
    """The rule as `evaluate` takes it, made once for each rule read (the catalog's are held for
    many bookings)."""
    made = rule.__dict__.get("_as_rule")
    if made is None:
        made = rule.__dict__["_as_rule"] = _rule_of(rule)
    return made


def _rule_of(rule: PathwayRule) -> Rule:
    types = list(rule.prerequisite_types.all())
    label = " or ".join(t.name for t in types)
    plural = "s" if rule.count != 1 else ""
    return Rule(
        id=rule.pk, kind=rule.kind, count=rule.count, min_relief_percent=rule.min_relief_percent,
        within_days=rule.within_days, min_interval_days=rule.min_interval_days,
        min_interval_months=rule.min_interval_months, same_region=rule.same_region,
        prerequisite_type_ids=frozenset(t.pk for t in types), prerequisite_label=f"prior {label} procedure{plural}".replace("prior  ", "prior "),
        source=rule.source, accepts_outside=rule.accepts_outside_procedures, same_side=rule.same_side,
        payer_name=rule.payer.name if rule.payer_id else "",
    )


def patient_history(patient: Patient, *, exclude: Appointment | None = None,
                    visits: list[Appointment] | None = None) -> list[PastProcedure]:
    """The patient's procedures that count: completed or still booked here (not cancelled, no-shows),
    and those staff recorded as done elsewhere. `visits`: `patient_visits(patient)` read already."""
    if visits is None:
        visits = patient_visits(patient, exclude=exclude)
    elif exclude is not None:
        visits = [visit for visit in visits if visit.pk != exclude.pk]
    return history_of(visits, elsewhere=procedures_elsewhere(patient))


def patient_visits(patient: Patient, *, exclude: Appointment | None = None) -> list[Appointment]:
    """The patient's visits here that hold time (the ones `history_of` counts), with what it
    reads of each, in one query (procedure types and locations from the catalog)."""
    return rows.visits(patient.pk, exclude_id=exclude.pk if exclude is not None else None)


def procedures_elsewhere(patient: Patient) -> list[ProcedureElsewhere]:
    """What `history_of` takes as `elsewhere`: the patient's procedures done at other clinics."""
    return rows.procedures_elsewhere(patient.pk)


def history_of(appointments: Iterable[Appointment],
               elsewhere: Iterable[ProcedureElsewhere] = ()) -> list[PastProcedure]:
    """`patient_history` from visits already loaded (with procedure type, order, location and
    outcome) and procedures done elsewhere (with procedure type), in procedure order; visits
    that do not count are left out."""
    history = []
    for appointment in appointments:
        if appointment.status not in HOLDING_STATUSES:
            continue
        outcome = getattr(appointment, "outcome", None)
        history.append(PastProcedure(
            appointment_id=appointment.pk,
            procedure_type_id=appointment.procedure_type_id,
            family=appointment.procedure_type.family,
            region=appointment.order.region if appointment.order else "",
            laterality=appointment.order.laterality if appointment.order else "",
            day=appointment.procedure_start.astimezone(appointment.location.zone).date(),
            completed=appointment.status == "completed",
            relief_percent=outcome.relief_percent if outcome else None,
        ))
    for outside in elsewhere:
        history.append(PastProcedure(
            procedure_type_id=outside.procedure_type_id,
            family=outside.procedure_type.family,
            region=outside.region,
            day=outside.day,
            completed=True,
            relief_percent=outside.relief_percent,
            name=outside.procedure_type.name,
            elsewhere=outside.facility,
            documented=outside.is_documented,
            laterality=outside.laterality,
        ))
    history.sort(key=lambda past: past.day)
    return history


def _order_requirements(procedure_type: ProcedureType, order: ProcedureOrder | None, patient: Patient,
                        day: dt.date, eligibility: Eligibility) -> None:
    plan_requirements(order, day, eligibility)
    if procedure_type.requires_psych_evaluation and not (order and order.psych_evaluation_date):
        eligibility.unmet.append(Unmet(
            f"{procedure_type.name} needs a psychological evaluation on file: record its date on the order."))
    if procedure_type.requires_fracture_imaging and not (order and order.imaging_confirms_acute_fracture):
        eligibility.unmet.append(Unmet(
            f"{procedure_type.name} needs imaging that confirms an acute fracture, recorded on the order."))
    payer = patient.payer
    if not (procedure_type.prior_authorization_required and payer and payer.requires_prior_authorization):
        return
    if order is None or order.authorization_status != AuthorizationStatus.APPROVED:
        state = order.get_authorization_status_display().lower() if order else "not requested"
        eligibility.unmet.append(Unmet(
            f"{payer.name} requires prior authorization for {procedure_type.name}; it is {state}."))
        return
    if order.authorization_valid_from and day < order.authorization_valid_from:
        eligibility.unmet.append(Unmet(
            f"The prior authorization ({order.authorization_number}) is valid from "
            f"{order.authorization_valid_from.isoformat()}.", earliest=order.authorization_valid_from))
    if order.authorization_valid_until:
        eligibility.latest = min(filter(None, [eligibility.latest, order.authorization_valid_until]))
        if day > order.authorization_valid_until:
            eligibility.unmet.append(Unmet(
                f"The prior authorization ({order.authorization_number}) expired on "
                f"{order.authorization_valid_until.isoformat()}; ask {payer.name} to extend it."))


def check_eligibility(*, patient: Patient, procedure_type: ProcedureType, order: ProcedureOrder | None,
                      day: dt.date, exclude: Appointment | None = None,
                      history: list[PastProcedure] | None = None,
                      rules: list[PathwayRule] | None = None) -> Eligibility:
    """Every unmet requirement for `procedure_type` on `day` (the local date of the procedure).

    `history` and `rules` (from `patient_history` and `applicable_rules`) spare their queries
    when one caller checks many days or orders."""
    eligibility = Eligibility()
    _order_requirements(procedure_type, order, patient, day, eligibility)
    rules = rules if rules is not None else applicable_rules(procedure_type, patient.payer_id)
    if rules:
        history = history if history is not None else patient_history(patient, exclude=exclude)
        region = order.region if order else ""
        family_label = procedure_type.get_family_display().lower()
        for rule in rules:
            unmet = evaluate(_as_rule(rule), day=day, family=procedure_type.family, family_label=family_label,
                             region=region, history=history, laterality=order.laterality if order else "")
            if unmet:
                source = f" ({rule.source})" if rule.source else ""
                eligibility.unmet.append(Unmet(unmet.message[:-1] + source + ".", unmet.rule_id, unmet.earliest,
                                               kind=rule.kind))
    return eligibility


def bookable_orders(patient: Patient, procedure_type: ProcedureType,
                    rebooking: Appointment | None = None) -> list[ProcedureOrder]:
    """The patient's open orders for the procedure type not already booked, oldest first."""
    booked = Appointment.objects.filter(order=OuterRef("pk"), status__in=ACTIVE_STATUSES)
    if rebooking is not None:
        booked = booked.exclude(pk=rebooking.pk)
    return list(
        ProcedureOrder.objects.filter(patient=patient, procedure_type=procedure_type, status="open")
        .exclude(Exists(booked))
        .order_by("created_at", "pk")
    )


def no_order_reason(patient: Patient, procedure_type: ProcedureType) -> str:
    return (f"{procedure_type.name} needs a physician's order, and {patient.full_name} has no open order for it "
            "that is not already booked.")


def choose_order(*, patient: Patient, procedure_type: ProcedureType, day: dt.date,
                 rebooking: Appointment | None = None, orders: list[ProcedureOrder] | None = None,
                 history: list[PastProcedure] | None = None,
                 rules: list[PathwayRule] | None = None) -> tuple[ProcedureOrder | None, Eligibility]:
    """The order a booking on `day` uses: the oldest bookable one the patient is eligible with,
    else the oldest, with what it lacks. `orders` (from `bookable_orders`), `history` and `rules`
    spare their queries when one caller asks about many days."""
    orders = orders if orders is not None else bookable_orders(patient, procedure_type, rebooking)
    if not orders:
        return None, Eligibility([Unmet(no_order_reason(patient, procedure_type))])
    first: tuple[ProcedureOrder, Eligibility] | None = None
    for order in orders:
        eligibility = check_eligibility(patient=patient, procedure_type=procedure_type, order=order, day=day,
                                        exclude=rebooking, history=history, rules=rules)
        if eligibility.eligible:
            return order, eligibility
        first = first or (order, eligibility)
    return first
