"""Rows read with written-out SQL on the booking's hot path, built into model instances as the
ORM builds them (clinic/rows.py). For a statement run once per booking, the ORM spends longer
composing the SQL than the database spends answering it; the columns are still the models'
own, taken from their fields, so a field added to a model is read here too.

`patient`, `order`, `visits` and `procedures_elsewhere` give what the ORM queries they replace
gave (tests/test_rows.py holds them to it)."""

from __future__ import annotations

from functools import lru_cache

from django.db import connection

from clinic.models import Patient
from clinic.rows import build as _build, columns as _columns, fetch as _fetch, ids_joined as _ids_joined, width as _width
from scheduling import catalog
from scheduling.models import Appointment, CarePlanStep, Outcome, ProcedureElsewhere, ProcedureOrder
from scheduling.nearby import holding


@lru_cache(maxsize=None)
def _patient_sql(vendor: str) -> str:
    drugs = Patient.blood_thinners.through._meta.db_table
    return (f"SELECT {_columns(Patient, 'p')}, (SELECT {_ids_joined('d.bloodthinner_id')} FROM {drugs} d "
            f"WHERE d.patient_id = p.id) FROM {Patient._meta.db_table} p WHERE p.id = %s")


def patient(pk: int) -> Patient | None:
    """The patient with their payer (from the catalog) and `blood_thinner_ids` ("3,7"), which
    `catalog.known_blood_thinners` answers the blood thinners from."""
    rows = _fetch(_patient_sql(connection.vendor), [pk])
    if not rows:
        return None
    found = _build(Patient, rows[0][:-1])
    found.blood_thinner_ids = rows[0][-1] or ""
    catalog.known_relations([found], "payer")
    return found


@lru_cache(maxsize=None)
def _order_sql(vendor: str) -> str:
    return (f"SELECT {_columns(ProcedureOrder, 'o')}, EXISTS (SELECT 1 FROM {CarePlanStep._meta.db_table} s "
            f"WHERE s.order_id = o.id) FROM {ProcedureOrder._meta.db_table} o WHERE o.id = %s")


def order(pk: int) -> ProcedureOrder | None:
    """The order with `in_care_plan`: whether a step of a care plan books it."""
    rows = _fetch(_order_sql(connection.vendor), [pk])
    if not rows:
        return None
    found = _build(ProcedureOrder, rows[0][:-1])
    found.in_care_plan = bool(rows[0][-1])
    return found


@lru_cache(maxsize=None)
def _visits_sql(vendor: str) -> str:
    return (f"SELECT {_columns(Appointment, 'a')}, {_columns(ProcedureOrder, 'o')}, {_columns(Outcome, 'r')} "
            f"FROM {Appointment._meta.db_table} a "
            f"LEFT JOIN {ProcedureOrder._meta.db_table} o ON o.id = a.order_id "
            f"LEFT JOIN {Outcome._meta.db_table} r ON r.appointment_id = a.id "
            f"WHERE a.patient_id = %s AND {holding('a.status')} AND a.id <> %s ORDER BY a.procedure_start, a.id")


def visits(patient_id: int, *, exclude_id: int | None = None) -> list[Appointment]:
    """The patient's visits that hold time, in procedure order, each with its order and outcome
    (None when it has none) and its procedure type and location from the catalog."""
    appointment_width, order_width = _width(Appointment), _width(ProcedureOrder)
    found = []
    params = [patient_id, exclude_id or 0]
    for row in _fetch(_visits_sql(connection.vendor), params):
        visit = _build(Appointment, row[:appointment_width])
        order_values = row[appointment_width:appointment_width + order_width]
        Appointment.order.field.set_cached_value(
            visit, _build(ProcedureOrder, order_values) if order_values[0] is not None else None)
        outcome_values = row[appointment_width + order_width:]
        outcome = _build(Outcome, outcome_values) if outcome_values[0] is not None else None
        Appointment.outcome.related.set_cached_value(visit, outcome)
        if outcome is not None:
            Outcome.appointment.field.set_cached_value(outcome, visit)
        found.append(visit)
    return catalog.known_relations(found, "procedure_type", "location")


@lru_cache(maxsize=None)
def _elsewhere_sql(vendor: str) -> str:
    return (f"SELECT {_columns(ProcedureElsewhere, 'e')} FROM {ProcedureElsewhere._meta.db_table} e "
            "WHERE e.patient_id = %s ORDER BY e.day DESC, e.id DESC")


def procedures_elsewhere(patient_id: int) -> list[ProcedureElsewhere]:
    """The patient's procedures done at other clinics, the latest first, with their procedure
    types from the catalog."""
    found = [_build(ProcedureElsewhere, row) for row in _fetch(_elsewhere_sql(connection.vendor), [patient_id])]
    return catalog.known_relations(found, "procedure_type")
