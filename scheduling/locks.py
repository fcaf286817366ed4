"""The locks taken by transactions that book, move or hold time: all through `lock_booking`, in
one fixed order (the days, by location and date, then the patients, by id), so two
transactions locking the same keys cannot deadlock.

Recovery bays are a location's pooled capacity over time, which no constraint can express, so
the bookings that could compete for them run one at a time: those whose visits touch the same
local day at the same location. A visit locks every local day its span touches (two when it
crosses midnight), so any two visits that overlap share a locked day, while bookings on other
days of the same location go ahead at once. Physicians, rooms and patients are guarded by the
exclusion constraints as well; the patient's lock serializes the eligibility rules, which count
the patient's other bookings.

On PostgreSQL these are transaction-scoped advisory locks (released at commit or rollback, no
row to contend on); on SQLite a no-op, as every write transaction is serialized there already
(BEGIN IMMEDIATE, settings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from clinic.models import Location

# An advisory lock's key is one 64-bit integer: the kind of thing locked in the top bits, then
# its id, then (for a day) the date's ordinal, which fits 20 bits until the year 2870.
_DAY, _PATIENT = 1, 2
_ORDINAL_BITS, _ID_BITS = 20, 36


def _key(kind: int, ident: int, ordinal: int = 0) -> int:
    return (kind << (_ID_BITS + _ORDINAL_BITS)) | (ident << _ORDINAL_BITS) | ordinal


def visit_days(location: Location, start: dt.datetime, end: dt.datetime) -> list[tuple[int, dt.date]]:
    """The (location id, local day) pairs the span [start, end) touches at `location`."""
    zone = location.zone
    first = start.astimezone(zone).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(zone).date() if end > start else first
    return [(location.pk, first + dt.timedelta(days=offset)) for offset in range((last - first).days + 1)]


def lock_booking(*, days: Iterable[tuple[int, dt.date]], patient_ids: Iterable[int | None] = ()) -> None:
    """Lock these (location id, local day) pairs and patients until the transaction ends, in
    one statement, days first, each group in ascending order.

    The same statement has the rest of the transaction run its prepared statements (a statement
    psycopg has seen five times on the connection) on their generic plan, made once. PostgreSQL
    would otherwise keep planning the visit's span (`scheduling.visit_span`) afresh on every
    booking: its estimate for a range not yet known is too high, and the fresh plan costs more
    than the statement's run. The statements a booking runs are written to be served by their
    indexes whatever their parameters (`scheduling.nearby.holding`)."""
    if connection.vendor != "postgresql":
        return
    keys = sorted({_key(_DAY, location_id, day.toordinal()) for location_id, day in days})
    keys += sorted({_key(_PATIENT, patient_id) for patient_id in patient_ids if patient_id is not None})
    if not keys:
        return
    # Select-list expressions run left to right: the locks are taken in the order written.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
                       + ", ".join(["pg_advisory_xact_lock(%s)"] * len(keys)), keys)
