"""SQL conditions for the appointments near a span of time, written so that PostgreSQL's range
indexes serve them: the location's visits through 0022's index of their whole span, the
physician's and the patient's through 0002's exclusion constraints. Each reads the visits near
the span, not every visit the location, physician or patient ever had.

What "near" means is what the engine asks of each: a visit at the location counts when its time
in the room or at the clinic overlaps the span (its rooms, its recovery bays), a physician's
when their procedure does, a patient's when their stay does. A visit's time in the room and its
stay overlap (both hold the procedure), so their hull, which the index keeps, is their union.

Each function gives (SQL, params) for a WHERE clause; `since` and `until` as the database
adapter takes them. The ids are cast to the columns' type: btree_gist's bigint operator class
leaves an integer literal out of the index condition, and the index would then be read whole.
"""

from __future__ import annotations

from django.db import connection

from scheduling.models import HOLDING_STATUSES

_RANGE = "tstzrange(%s, %s, '[)')"
_HULL = "tstzrange(LEAST(arrival, room_start), GREATEST(discharge, room_end), '[)')"


def holding(column: str = "status") -> str:
    """The condition that a visit holds time, with the statuses written into the statement
    rather than passed with it: the visits' range indexes are partial on these statuses, and
    PostgreSQL can use them in a prepared statement's plan made once for every run (its generic
    plan) only when the statement names them. The statuses are the code's own words."""
    words = ", ".join("'" + str(status).replace("'", "''") + "'" for status in HOLDING_STATUSES)
    return f"{column} IN ({words})"


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def epoch_sql(column: str) -> str:
    """An instant or a date as whole seconds since the epoch (a date: its midnight, UTC), computed
    by the database: thousands of rows of plain integers skip the driver's and the ORM's parsing."""
    if _postgresql():
        return f"EXTRACT(EPOCH FROM {column})::bigint"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def _any(condition: str, ids, since, until) -> tuple[str, list]:
    """`condition` (with the id's placeholder first, then the span's) for each id, OR-ed."""
    if not ids:
        return "1 = 0", []
    return ("(" + " OR ".join([condition] * len(ids)) + ")",
            [value for each in ids for value in (each, since, until)])


def near_locations(location_ids, since, until) -> tuple[str, list]:
    if _postgresql():
        return _any(f"(location_id = %s::bigint AND {_HULL} && {_RANGE})", location_ids, since, until)
    if not location_ids:
        return "1 = 0", []
    return (f"(location_id IN ({', '.join(['%s'] * len(location_ids))}) AND ((arrival < %s AND discharge > %s) "
            "OR (room_start < %s AND room_end > %s)))", [*location_ids, until, since, until, since])


def near_physicians(physician_ids, since, until) -> tuple[str, list]:
    if _postgresql():
        return _any(f"(physician_id = %s::bigint AND tstzrange(procedure_start, procedure_end, '[)') && {_RANGE})",
                    physician_ids, since, until)
    if not physician_ids:
        return "1 = 0", []
    return (f"(physician_id IN ({', '.join(['%s'] * len(physician_ids))}) AND procedure_start < %s "
            "AND procedure_end > %s)", [*physician_ids, until, since])


def near_patient(patient_id: int, since, until) -> tuple[str, list]:
    if _postgresql():
        return _any(f"(patient_id = %s::bigint AND tstzrange(arrival, discharge, '[)') && {_RANGE})",
                    [patient_id], since, until)
    return "(patient_id = %s AND arrival < %s AND discharge > %s)", [patient_id, until, since]
