"""How a booking's callers read what they book with: each row with what the booking's checks ask
of it (a physician's credentials, a room's capabilities, what a procedure needs of a room, the
patient's payer, whether an order belongs to a care plan), so the booking reads none of it again.
The services work as well with rows read plainly; they read what is missing themselves."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce

from clinic.models import Patient, Physician, ProcedureType, Room
from scheduling.models import CarePlanStep, ProcedureOrder
from scheduling.selectors import IdList, with_room_needs


def patients() -> QuerySet:
    return Patient.objects.select_related("payer")


def procedure_types() -> QuerySet:
    return with_room_needs(ProcedureType.objects.all())


def physicians() -> QuerySet:
    # Without the staff user: a booking needs the physician's name only to refuse, and grouping
    # by the user's columns too made this the costliest of the inputs to compose.
    return Physician.objects.annotate(procedure_type_ids=Coalesce(IdList("procedure_types"), Value("")))


def rooms() -> QuerySet:
    return Room.objects.select_related("location").annotate(capability_ids=Coalesce(IdList("capabilities"), Value("")))


def orders() -> QuerySet:
    return ProcedureOrder.objects.annotate(in_care_plan=Exists(CarePlanStep.objects.filter(order=OuterRef("pk"))))
