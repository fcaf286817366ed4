"""How a booking's callers read what they book with: each row with what the booking's checks ask
of it (a physician's credentials, a room's capabilities, what a procedure needs of a room, the
patient's payer and blood thinners, whether an order belongs to a care plan), so the booking
reads none of it again. Procedure types, physicians and rooms come from the catalog held in
memory (scheduling/catalog.py); the patient and the order are read in one written-out statement
each (scheduling/rows.py). The services work as well with rows read plainly; they read what is
missing themselves."""

from __future__ import annotations

from clinic.models import Location, Physician, ProcedureType, Room
from scheduling import catalog


def procedure_type(code: str) -> ProcedureType | None:
    return catalog.current().procedure_types_by_code.get(code)


def offered_procedure_type(code: str) -> ProcedureType | None:
    found = procedure_type(code)
    return found if found is not None and found.is_active else None


def open_location(pk: int) -> Location | None:
    found = catalog.current().locations.get(pk)
    return found if found is not None and found.is_active else None


def open_locations() -> list[Location]:
    return sorted((each for each in catalog.current().locations.values() if each.is_active), key=lambda each: each.pk)


def physician(pk: int) -> Physician | None:
    return catalog.current().physicians.get(pk)


def room(pk: int) -> Room | None:
    return catalog.current().rooms.get(pk)
