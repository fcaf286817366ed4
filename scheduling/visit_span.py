"""The engine's input for checking one visit at one time: only what the visit's own span touches.

`availability_request` loads a location's calendar over whole days to search for free times;
a booking asks about one start only, so this loads the physician's blocks and then, in one
statement, whatever overlaps the visit's span: the appointments and holds of its physician, its
room (or the location's rooms) and recovery bays, the patient's visits, the physician's time
off, the rooms' maintenance and the day's closure. The engine's own check
(`explain_unavailable`) then decides, as it does for every search, on a request that holds
the same spans near the visit as the full one would.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection
from django.db.models import F, IntegerField, Q, Value

from clinic.models import Closure, Location, Patient, Physician, ProcedureType, Room, RoomOutOfService, ScheduleBlock, TimeOff
from scheduling import availability as engine
from scheduling.models import HOLDING_STATUSES, Appointment, SlotHold
from scheduling.selectors import Epoch, capable_room_ids, segments_of

_APPOINTMENT, _HOLD, _TIME_OFF, _OUT_OF_SERVICE, _CLOSURE = range(5)
_COLUMNS = ("kind", "location", "physician", "room", "patient", "arrival", "start", "end", "discharge", "room_start",
            "room_end")


def room_capability_ids(room: Room) -> set[int]:
    """The room's capabilities: from `capability_ids` when the room was read with it (the API
    reads it so), else one query."""
    listed = getattr(room, "capability_ids", None)
    if listed is None:
        listed = room.capability_ids = ",".join(str(pk) for pk in room.capabilities.values_list("pk", flat=True))
    return {int(pk) for pk in listed.split(",") if pk}


def _none() -> Value:
    return Value(None, output_field=IntegerField())


def _row(queryset, kind: int, **columns):
    """`queryset` as rows of `_COLUMNS`, instants as epoch seconds; a missing column is NULL."""
    values = {"kind": Value(kind, output_field=IntegerField())}
    for name in _COLUMNS[1:]:
        source = columns.get(name)
        values[f"c_{name}"] = _none() if source is None else Epoch(source) if name in _COLUMNS[5:] else F(source)
    names = [f"c_{name}" for name in _COLUMNS[1:]]
    return queryset.order_by().annotate(c_kind=values.pop("kind"), **values).values_list("c_kind", *names)


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
    `start` can tell (the same arguments): two statements when the room is named, three when
    the location's rooms are read."""
    segments = segments_of(procedure_type)
    visit = engine.visit_at(start, segments)
    span_from, span_until = min(visit.arrival, visit.room_start), max(visit.discharge, visit.room_end)
    day = start.astimezone(location.zone).date()

    blocks = [
        engine.WeeklyBlock(*row) for row in ScheduleBlock.objects.filter(
            physician=physician, location=location, kind=procedure_type.schedule_kind, valid_from__lte=day,
        ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day)).values_list(
            "weekday", "start_time", "end_time", "valid_from", "valid_until")
    ]
    if room is not None:
        capable = {room.pk: room_capability_ids(room)} if room.is_active and room.location_id == location.pk else {}
    else:
        capable = defaultdict(set)
        for room_id, capability_id in Room.objects.filter(location=location, is_active=True).values_list(
                "id", "capabilities"):
            capable[room_id].add(capability_id)
    room_ids = capable_room_ids(procedure_type, capable)

    overlapping = Q(arrival__lt=span_until, discharge__gt=span_from) | Q(room_start__lt=span_until,
                                                                         room_end__gt=span_from)
    whose = Q(location=location) | Q(physician=physician) | (Q(patient=patient) if patient is not None else Q())
    appointments = Appointment.objects.filter(whose, overlapping, status__in=HOLDING_STATUSES)
    if exclude_appointment is not None:
        appointments = appointments.exclude(pk=exclude_appointment.pk)
    branches = [_row(appointments, _APPOINTMENT, location="location_id", physician="physician_id", room="room_id",
                     patient="patient_id", arrival="arrival", start="procedure_start", end="procedure_end",
                     discharge="discharge", room_start="room_start", room_end="room_end")]
    if count_holds:
        holds = SlotHold.objects.filter(
            Q(location=location) | Q(physician=physician),
            Q(procedure_start__lt=span_until, discharge__gt=span_from) | Q(room_start__lt=span_until,
                                                                           room_end__gt=span_from),
            expires_at__gt=now,
        )
        if exclude_hold:
            holds = holds.exclude(key=exclude_hold)
        branches.append(_row(holds, _HOLD, location="location_id", physician="physician_id", room="room_id",
                             start="procedure_start", end="procedure_end", discharge="discharge",
                             room_start="room_start", room_end="room_end"))
    branches.append(_row(TimeOff.objects.filter(physician=physician, starts_at__lt=span_until, ends_at__gt=span_from),
                         _TIME_OFF, physician="physician_id", start="starts_at", end="ends_at"))
    if room_ids:
        branches.append(_row(RoomOutOfService.objects.filter(room_id__in=room_ids, starts_at__lt=span_until,
                                                             ends_at__gt=span_from),
                             _OUT_OF_SERVICE, room="room_id", room_start="starts_at", room_end="ends_at"))
    branches.append(_row(Closure.objects.filter(location=location, first_day__lte=day, last_day__gte=day),
                         _CLOSURE, location="location_id"))
    union = branches[0].union(*branches[1:], all=True)
    sql, params = union.query.sql_with_params()
    with connection.cursor() as cursor:  # plain integers: the ORM's per-row converters are not needed
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    physician_busy: list[engine.Span] = []
    room_busy: dict[int, list[engine.Span]] = defaultdict(list)
    recovery_busy: list[engine.Span] = []
    patient_busy: list[engine.Span] = []
    closed = False
    room_set = set(room_ids)
    for kind, location_id, physician_id, room_id, patient_id, arrival, begins, ends, discharge, room_start, room_end \
            in rows:
        if kind == _CLOSURE:
            closed = True
            continue
        if kind != _OUT_OF_SERVICE and physician_id == physician.pk:
            physician_busy.append((begins, ends))
        if kind != _TIME_OFF and room_id in room_set:
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
