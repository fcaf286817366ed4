"""Procedure orders."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinic.models import Patient, Physician, ProcedureType
from scheduling.errors import NotEligible
from scheduling.models import ProcedureOrder, RuleKind
from scheduling.pathways.eligibility import check_eligibility
from scheduling.pathways.overrides import may_override_rules


@transaction.atomic
def order_create(*, patient: Patient, procedure_type: ProcedureType, ordering_physician: Physician, by=None,
                 override_reason: str = "", **details) -> ProcedureOrder:
    """Order a procedure. A procedure that needs prior ones (an SCS implant after a successful
    trial, RFA after diagnostic blocks) can be ordered once they are on record, unless a
    physician overrides with a reason, which is kept in the order's notes."""
    order = ProcedureOrder(patient=patient, procedure_type=procedure_type, ordering_physician=ordering_physician,
                           **details)
    order.full_clean()
    eligibility = check_eligibility(patient=patient, procedure_type=procedure_type, order=order,
                                    day=timezone.localdate())
    prerequisites = [item for item in eligibility.unmet if item.kind == RuleKind.PREREQUISITE]
    if prerequisites:
        if not override_reason.strip():
            raise NotEligible(" ".join(item.message for item in prerequisites), unmet=prerequisites)
        if not may_override_rules(by):
            raise NotEligible("Only a physician can override a pathway rule. "
                              + " ".join(item.message for item in prerequisites), unmet=prerequisites)
        note = f"Ordered despite: {' '.join(item.message for item in prerequisites)} Reason: {override_reason.strip()}"
        order.notes = f"{order.notes}\n{note}".strip()
    order._history_user = by
    order.save()
    return order

