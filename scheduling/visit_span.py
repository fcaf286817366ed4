"""The engine's input for checking one visit at one time: only what the visit's own span touches.

`availability_request` loads a location's calendar over whole days to search for free times;
a booking asks about one start only, so this reads, in one statement, the physician's blocks
and whatever overlaps the visit's span: the appointments and holds of its physician, its room
(or the location's rooms) and recovery bays, the patient's visits, the physician's time off,
the rooms' maintenance and the day's closure. The engine's own check (`explain_unavailable`)
then decides, as it does for every search, on a request that holds the same spans near the
visit as the full one would.

The statement is written out rather than built by the ORM: it runs inside every booking's
lock, and composing six querysets cost more time than the database spends answering them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection

from clinic.models import (
    Closure,
    Location,
    Patient,
    Physician,
    ProcedureType,
    Room,
    RoomOutOfService,
    ScheduleBlock,
    TimeOff,
)
from scheduling import availability as engine
from scheduling.models import Appointment, SlotHold
from scheduling.nearby import epoch_sql, holding, near_locations, near_patient, near_physicians
from scheduling.selectors import capable_room_ids, segments_of

_APPOINTMENT, _HOLD, _TIME_OFF, _OUT_OF_SERVICE, _CLOSURE, _BLOCK = range(6)
_EPOCH_DAY = dt.date(1970, 1, 1)


def room_capability_ids(room: Room) -> set[int]:
    """The room's capabilities: from `capability_ids` when the room was read with it (the API
    reads it so), else one query."""
    listed = getattr(room, "capability_ids", None)
    if listed is None:
        listed = room.capability_ids = ",".join(str(pk) for pk in room.capabilities.values_list("pk", flat=True))
    return {int(pk) for pk in listed.split(",") if pk}


def _seconds(column: str) -> str:
    """A time of day as seconds since midnight."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})::bigint"
    return f"CAST(strftime('%%s', '1970-01-01 ' || {column}) AS INTEGER)"




def _day(seconds: int | None) -> dt.date | None:
    return None if seconds is None else _EPOCH_DAY + dt.timedelta(days=seconds // 86400)


def _time(seconds: int) -> dt.time:
    return dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def _appointments_near(*, location: Location, physician: Physician, patient: Patient | None, since,
                       until) -> tuple[str, list]:
    """The condition for the visits that can touch one at [since, until): the location's, the
    physician's and the patient's near it (`scheduling.nearby`)."""
    parts = [near_locations([location.pk], since, until), near_physicians([physician.pk], since, until)]
    if patient is not None:
        parts.append(near_patient(patient.pk, since, until))
    return "(" + " OR ".join(sql for sql, _ in parts) + ")", [value for _, params in parts for value in params]


def _span_sql(*, location: Location, physician: Physician, procedure_type: ProcedureType, patient: Patient | None,
              room: Room | None, day: dt.date, span_from: dt.datetime, span_until: dt.datetime, now: dt.datetime,
              exclude_appointment: Appointment | None, exclude_hold: str | None,
              count_holds: bool) -> tuple[str, list]:
    """The statement: rows of (kind, eleven integers), instants as epoch seconds, each kind's
    columns as `visit_request` reads them."""
    ops = connection.ops
    since, until = ops.adapt_datetimefield_value(span_from), ops.adapt_datetimefield_value(span_until)
    today = ops.adapt_datefield_value(day)
    e = epoch_sql
    parts, params = [], []

    whose, whose_params = _appointments_near(location=location, physician=physician, patient=patient,
                                             since=since, until=until)
    parts.append(
        f"SELECT {_APPOINTMENT}, location_id, physician_id, room_id, patient_id, {e('arrival')}, "
        f"{e('procedure_start')}, {e('procedure_end')}, {e('discharge')}, {e('room_start')}, {e('room_end')} "
        f"FROM {Appointment._meta.db_table} WHERE {holding()} AND {whose}"
        + (" AND id <> %s" if exclude_appointment is not None else ""))
    params += whose_params + ([exclude_appointment.pk] if exclude_appointment is not None else [])
    if count_holds:
        parts.append(
            f"SELECT {_HOLD}, location_id, physician_id, room_id, NULL, NULL, {e('procedure_start')}, "
            f"{e('procedure_end')}, {e('discharge')}, {e('room_start')}, {e('room_end')} "
            f"FROM {SlotHold._meta.db_table} WHERE (location_id = %s OR physician_id = %s) AND expires_at > %s "
            "AND ((procedure_start < %s AND discharge > %s) OR (room_start < %s AND room_end > %s))"
            + (' AND "key" <> %s' if exclude_hold else ""))
        params += [location.pk, physician.pk, ops.adapt_datetimefield_value(now), until, since, until, since]
        params += [exclude_hold] if exclude_hold else []
    parts.append(
        f"SELECT {_TIME_OFF}, NULL, physician_id, NULL, NULL, NULL, {e('starts_at')}, {e('ends_at')}, NULL, NULL, "
        f"NULL FROM {TimeOff._meta.db_table} WHERE physician_id = %s AND starts_at < %s AND ends_at > %s")
    params += [physician.pk, until, since]
    rooms = ("room_id = %s" if room is not None
             else f"room_id IN (SELECT id FROM {Room._meta.db_table} WHERE location_id = %s)")
    parts.append(
        f"SELECT {_OUT_OF_SERVICE}, NULL, NULL, room_id, NULL, NULL, NULL, NULL, NULL, {e('starts_at')}, "
        f"{e('ends_at')} FROM {RoomOutOfService._meta.db_table} WHERE {rooms} AND starts_at < %s AND ends_at > %s")
    params += [room.pk if room is not None else location.pk, until, since]
    parts.append(
        f"SELECT {_CLOSURE}, location_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
        f"FROM {Closure._meta.db_table} WHERE location_id = %s AND first_day <= %s AND last_day >= %s")
    params += [location.pk, today, today]
    parts.append(
        f"SELECT {_BLOCK}, weekday, {_seconds('start_time')}, {_seconds('end_time')}, NULL, {e('valid_from')}, "
        f"{e('valid_until')}, NULL, NULL, NULL, NULL FROM {ScheduleBlock._meta.db_table} "
        "WHERE physician_id = %s AND location_id = %s AND kind = %s AND valid_from <= %s "
        "AND (valid_until IS NULL OR valid_until >= %s)")
    params += [physician.pk, location.pk, procedure_type.schedule_kind, today, today]
    return " UNION ALL ".join(parts), params


def visit_request(
    *,
    procedure_type: ProcedureType,
    location: Location,
    physician: Physician,
    start: dt.datetime,
    now: dt.datetime,
    patient: Patient | None = None,
    room: Room | None = None,
    exclude_appointment: Appointment | None = None,
    exclude_hold: str | None = None,
    count_holds: bool = True,
    apply_minimum_notice: bool = False,
) -> engine.Request:
    """What `availability_request` gives for the visit's day, as far as a visit starting at
    `start` can tell (the same arguments): one statement when the room is named, two when the
    location's rooms are read."""
    segments = segments_of(procedure_type)
    visit = engine.visit_at(start, segments)
    span_from, span_until = min(visit.arrival, visit.room_start), max(visit.discharge, visit.room_end)
    day = start.astimezone(location.zone).date()

    if room is not None:
        capable = {room.pk: room_capability_ids(room)} if room.is_active and room.location_id == location.pk else {}
    else:
        capable = defaultdict(set)
        for room_id, capability_id in Room.objects.filter(location=location, is_active=True).values_list(
                "id", "capabilities"):
            capable[room_id].add(capability_id)
    room_ids = capable_room_ids(procedure_type, capable)

    sql, params = _span_sql(location=location, physician=physician, procedure_type=procedure_type, patient=patient,
                            room=room, day=day, span_from=span_from, span_until=span_until, now=now,
                            exclude_appointment=exclude_appointment, exclude_hold=exclude_hold,
                            count_holds=count_holds)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    physician_busy: list[engine.Span] = []
    room_busy: dict[int, list[engine.Span]] = defaultdict(list)
    recovery_busy: list[engine.Span] = []
    patient_busy: list[engine.Span] = []
    blocks: list[engine.WeeklyBlock] = []
    closed = False
    room_set = set(room_ids)
    for kind, *columns in rows:
        if kind == _BLOCK:
            weekday, opens, closes, _, valid_from, valid_until = columns[:6]
            blocks.append(engine.WeeklyBlock(weekday, _time(opens), _time(closes), _day(valid_from),
                                             _day(valid_until)))
            continue
        if kind == _CLOSURE:
            closed = True
            continue
        location_id, physician_id, room_id, patient_id, arrival, begins, ends, discharge, room_start, room_end = columns
        if kind != _OUT_OF_SERVICE and physician_id == physician.pk:
            physician_busy.append((begins, ends))
        if room_id in room_set:
            room_busy[room_id].append((room_start, room_end))
        if kind in (_APPOINTMENT, _HOLD) and location_id == location.pk and discharge > ends:
            recovery_busy.append((ends, discharge))
        if kind == _APPOINTMENT and patient is not None and patient_id == patient.pk:
            patient_busy.append((arrival, discharge))

    earliest = now + dt.timedelta(hours=location.minimum_notice_hours) if apply_minimum_notice else now
    return engine.Request(
        segments=segments,
        zone=location.zone,
        first_day=day,
        last_day=day,
        physicians=[engine.PhysicianInput(id=physician.pk, blocks=blocks, busy=physician_busy)] if blocks else [],
        rooms=[engine.RoomInput(id=room_id, busy=room_busy.get(room_id, ())) for room_id in room_ids],
        recovery_bays=location.recovery_bays,
        recovery_busy=recovery_busy,
        patient_busy=patient_busy,
        closed_days=frozenset({day}) if closed else frozenset(),
        grid_minutes=location.slot_interval_minutes,
        earliest=earliest,
        latest=now + dt.timedelta(days=location.booking_horizon_days),
    )
