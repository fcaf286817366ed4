"""Reads of the calendar that several callers share.

`availability_request` loads everything the availability engine needs for one location,
procedure type and window in a fixed number of queries (two, two more for a procedure type
read without `with_room_needs`; none for a window no schedule block falls in: the blocks,
closures and rooms come from the catalog held in memory), whatever the window's length and
however many appointments there are; the engine then works on plain data, every instant as
epoch seconds.
`availability_requests` does the same for several procedure types from one load (the day
board's "book here" times ask for a few types of the same day).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Aggregate, BigIntegerField, CharField, Func, Prefetch, QuerySet, Value, prefetch_related_objects
from django.db.models.functions import Coalesce

from clinic.models import (Closure, Location, Patient, Physician, ProcedureType, Room, RoomOutOfService, ScheduleBlock,
                           TimeOff)
from scheduling import availability as engine
from scheduling import catalog
from scheduling.models import Appointment, AppointmentStatus, PreProcedureCheck, SlotHold
from scheduling.nearby import epoch_sql, holding, near_locations, near_patient, near_physicians

_MARGIN = dt.timedelta(days=1)  # room and patient spans reach past the procedure's own day
LIMITED_CHUNK_DAYS = 7


class Epoch(Func):
    """A timestamp as whole seconds since the Unix epoch, computed by the database.

    The engine works on integers; letting the database send them spares parsing thousands of
    timestamps into datetimes (Django's timestamptz loader runs in Python).
    """

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::bigint",
                           **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)",
                           **extra_context)


def segments_of(procedure_type: ProcedureType) -> engine.Segments:
    return engine.Segments(
        prep=procedure_type.prep_minutes,
        procedure=procedure_type.procedure_minutes,
        recovery=procedure_type.recovery_minutes,
        setup=procedure_type.setup_minutes,
        turnover=procedure_type.turnover_minutes,
    )


def window_bounds(location: Location, first_day: dt.date, last_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight of the first day to local midnight after the last, as instants."""
    zone = location.zone
    start = dt.datetime.combine(first_day, dt.time()).replace(tzinfo=zone)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time()).replace(tzinfo=zone)
    return start, end


class IdList(Aggregate):
    """The distinct ids of a relation joined by commas ("3,7"), computed by the database: a row
    carries its few related ids without a query of their own."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="STRING_AGG(DISTINCT CAST(%(expressions)s AS TEXT), ',')",
                           **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="GROUP_CONCAT(DISTINCT %(expressions)s)", **extra_context)


def with_room_needs(procedure_types: QuerySet) -> QuerySet:
    """Procedure types with what a room needs for each (`room_needs`) read in the same query,
    instead of two more for their required and alternative capabilities."""
    return procedure_types.annotate(
        required_capability_ids=Coalesce(IdList("required_capabilities"), Value("")),
        alternative_capability_ids=Coalesce(IdList("alternative_capabilities"), Value("")))


def room_needs(procedure_type: ProcedureType) -> tuple[set[int], set[int]]:
    """The capability ids a room needs for `procedure_type`: every required one, and one of the
    alternatives (if any). From `with_room_needs` when the type was read with it."""
    required = getattr(procedure_type, "required_capability_ids", None)
    if required is not None:
        return ({int(pk) for pk in required.split(",") if pk},
                {int(pk) for pk in procedure_type.alternative_capability_ids.split(",") if pk})
    return ({capability.pk for capability in procedure_type.required_capabilities.all()},
            {capability.pk for capability in procedure_type.alternative_capabilities.all()})


def capable_room_ids(procedure_type: ProcedureType, rooms: dict[int, set[int]]) -> list[int]:
    """Rooms (id -> capability ids) that have every required capability and one of the alternatives."""
    required, alternatives = room_needs(procedure_type)
    return sorted(
        room_id
        for room_id, capabilities in rooms.items()
        if required <= capabilities and (not alternatives or alternatives & capabilities)
    )


def _applies_in(block: engine.WeeklyBlock, first_day: dt.date, last_day: dt.date) -> bool:
    """Whether a weekly block falls on some day of [first_day, last_day]."""
    first, last = max(first_day, block.valid_from), min(last_day, block.valid_until or last_day)
    if first > last:
        return False
    return (last - first).days >= 6 or (block.weekday - first.weekday()) % 7 <= (last - first).days


def _holding_appointments(*, location_id: int, physician_ids: list[int], patient_id: int | None,
                          load_from: dt.datetime, load_until: dt.datetime, exclude_id: int | None) -> list[tuple]:
    """Appointments holding time in the load window: at the location, of the physicians
    anywhere (their procedure in the window), or of the patient anywhere. Rows of (location, physician, room, patient, arrival,
    procedure start, procedure end, discharge, room start, room end), the instants as epoch
    seconds computed by the database: thousands of rows of plain integers skip the ORM's per-row
    converters, and the SQL is written out because the ORM took longer to build it than the
    database to answer it."""
    at = connection.ops.adapt_datetimefield_value
    since, until = at(load_from), at(load_until)
    # Found through the range indexes (`scheduling.nearby`); a physician's visit elsewhere counts
    # by its procedure, the only part of it the search asks about.
    parts = [near_locations([location_id], since, until), near_physicians(physician_ids, since, until)]
    if patient_id is not None:
        parts.append(near_patient(patient_id, since, until))
    near, params = [sql for sql, _ in parts], [value for _, each in parts for value in each]
    instants = ", ".join(epoch_sql(column) for column in
                         ("arrival", "procedure_start", "procedure_end", "discharge", "room_start", "room_end"))
    sql = (f"SELECT location_id, physician_id, room_id, patient_id, {instants} FROM {Appointment._meta.db_table} "
           f"WHERE ({' OR '.join(near)}) AND {holding()} AND arrival < %s AND discharge > %s")
    params += [until, since]
    if exclude_id is not None:
        sql += " AND id <> %s"
        params.append(exclude_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def availability_request(*, procedure_type: ProcedureType, **arguments) -> engine.Request:
    """The engine's input for one procedure type at one location over [first_day, last_day].

    `count_holds=False` leaves out every time patients are holding on the booking pages (to tell
    a time that is only held from one that is taken). `beyond_horizon=True` searches past the
    location's booking horizon (a care plan's timeline looks further ahead than bookings may)."""
    return availability_requests(procedure_types=[procedure_type], **arguments)[procedure_type.pk]


def availability_requests(
    *,
    procedure_types: list[ProcedureType],
    location: Location,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
    physician: Physician | None = None,
    patient: Patient | None = None,
    room: Room | None = None,
    exclude_appointment: Appointment | None = None,
    exclude_hold: str | None = None,
    count_holds: bool = True,
    apply_minimum_notice: bool = True,
    beyond_horizon: bool = False,
    limit: int | None = None,
) -> dict[int, engine.Request]:
    """`availability_request` for several procedure types at once (by procedure type id), from one
    load: the busy spans are the location's and the physicians' whatever the procedure, so they
    are read once and each type takes its own physicians and rooms from them. Each request is the
    one `availability_request` gives for that type alone. The same queries as for one type (two
    more for the types' room needs unless prefetched)."""
    window_start, window_end = window_bounds(location, first_day, last_day)
    load_from, load_until = window_start - _MARGIN, window_end + _MARGIN
    type_ids = [procedure_type.pk for procedure_type in procedure_types]

    # 1. Blocks of the credentialed, active physicians at this location, of each type's kind
    # (from the catalog held in memory, as are the closures).
    held = catalog.current()
    kind_of = {procedure_type.pk: procedure_type.schedule_kind for procedure_type in procedure_types}
    weekly: dict[int, dict[int, list[engine.WeeklyBlock]]] = {type_id: defaultdict(list) for type_id in type_ids}
    for block in held.schedule_blocks.get(location.pk, ()):
        if block.valid_from > last_day or (block.valid_until is not None and block.valid_until < first_day):
            continue
        if physician is not None and block.physician_id != physician.pk:
            continue
        doctor = held.physicians.get(block.physician_id)
        if doctor is None or not doctor.is_active:
            continue
        credentialed = doctor.procedure_type_ids.split(",")
        for type_id in type_ids:
            if kind_of[type_id] == block.kind and str(type_id) in credentialed:
                weekly[type_id][block.physician_id].append(engine.WeeklyBlock(
                    block.weekday, block.start_time, block.end_time, block.valid_from, block.valid_until))
    physicians_of = {type_id: sorted(weekly[type_id]) for type_id in type_ids}
    physician_ids = sorted({pid for ids in physicians_of.values() for pid in ids})
    # A window no block falls in (a Sunday, a physician's day off) has no slot whatever else is
    # booked: skip reading the busy spans. The physicians stay, so that `explain_unavailable`
    # still names the missing block; no room is needed to say so.
    working = any(_applies_in(block, first_day, last_day)
                  for by_physician in weekly.values() for blocks in by_physician.values() for block in blocks)

    # 2. Closures.
    closed_days: set[dt.date] = set()
    for closure in held.closures.get(location.pk, ()):
        day = max(closure.first_day, first_day)
        while day <= min(closure.last_day, last_day):
            closed_days.add(day)
            day += dt.timedelta(days=1)

    busy = _Busy(rooms_of={procedure_type.pk: [] for procedure_type in procedure_types})
    if working:
        busy = _load_busy(procedure_types=procedure_types, location=location, physician_ids=physician_ids, room=room,
                          patient=patient, load_from=load_from, load_until=load_until, now=now,
                          exclude_appointment=exclude_appointment, exclude_hold=exclude_hold, count_holds=count_holds)
    physician_busy, room_busy, rooms_of = busy.physician_busy, busy.room_busy, busy.rooms_of

    earliest = now
    if apply_minimum_notice:
        earliest = now + dt.timedelta(hours=location.minimum_notice_hours)
    return {procedure_type.pk: engine.Request(
        segments=segments_of(procedure_type),
        zone=location.zone,
        first_day=first_day,
        last_day=last_day,
        physicians=[
            engine.PhysicianInput(id=pid, blocks=weekly[procedure_type.pk][pid], busy=physician_busy.get(pid, ()))
            for pid in physicians_of[procedure_type.pk]
        ],
        rooms=[engine.RoomInput(id=rid, busy=room_busy.get(rid, ())) for rid in rooms_of[procedure_type.pk]],
        recovery_bays=location.recovery_bays,
        recovery_busy=busy.recovery_busy,
        patient_busy=busy.patient_busy,
        closed_days=frozenset(closed_days),
        grid_minutes=location.slot_interval_minutes,
        earliest=earliest,
        latest=window_end if beyond_horizon else now + dt.timedelta(days=location.booking_horizon_days),
        limit=limit,
    ) for procedure_type in procedure_types}


@dataclass
class _Busy:
    """The busy spans one load reads for `availability_requests`, as epoch seconds."""

    rooms_of: dict[int, list[int]]  # procedure type id -> ids of the rooms that suit it
    physician_busy: dict[int, list[engine.Span]] = field(default_factory=dict)
    room_busy: dict[int, list[engine.Span]] = field(default_factory=dict)
    recovery_busy: list[engine.Span] = field(default_factory=list)
    patient_busy: list[engine.Span] = field(default_factory=list)


_TIME_OFF, _OUT_OF_SERVICE, _HOLD = 1, 2, 3


def _in_sql(column: str, values: list) -> tuple[str, list]:
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _other_busy(*, physician_ids: list[int], room_ids: list[int], location: Location, load_from: dt.datetime,
                load_until: dt.datetime, now: dt.datetime, exclude_hold: str | None,
                count_holds: bool) -> list[tuple]:
    """Time off, out-of-service periods and holds overlapping the load window, in one query:
    rows of (kind, physician, room, location, start, end, discharge, room start, room end), the
    instants as epoch seconds. Written as SQL: the ORM took longer to build these three small
    queries than the database to answer them."""
    at = connection.ops.adapt_datetimefield_value
    window = [at(load_until), at(load_from)]
    physicians, physician_params = _in_sql("physician_id", physician_ids)
    rooms, room_params = _in_sql("room_id", room_ids)
    null = "CAST(NULL AS BIGINT)"
    sql = [
        f"SELECT {_TIME_OFF}, physician_id, {null}, {null}, {epoch_sql('starts_at')}, {epoch_sql('ends_at')}, "
        f"{null}, {null}, {null} FROM {TimeOff._meta.db_table} WHERE {physicians} AND starts_at < %s AND ends_at > %s",
        f"SELECT {_OUT_OF_SERVICE}, {null}, room_id, {null}, {epoch_sql('starts_at')}, {epoch_sql('ends_at')}, "
        f"{null}, {null}, {null} FROM {RoomOutOfService._meta.db_table} "
        f"WHERE {rooms} AND starts_at < %s AND ends_at > %s",
    ]
    params = [*physician_params, *window, *room_params, *window]
    if count_holds:
        instants = ", ".join(epoch_sql(column) for column in
                             ("procedure_start", "procedure_end", "discharge", "room_start", "room_end"))
        sql.append(f"SELECT {_HOLD}, physician_id, room_id, location_id, {instants} FROM {SlotHold._meta.db_table} "
                   f"WHERE (location_id = %s OR {physicians}) AND expires_at > %s AND procedure_start < %s "
                   f"AND discharge > %s" + (" AND key <> %s" if exclude_hold else ""))
        params += [location.pk, *physician_params, at(now), *window] + ([exclude_hold] if exclude_hold else [])
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(sql), params)
        return cursor.fetchall()


def _load_busy(*, procedure_types: list[ProcedureType], location: Location, physician_ids: list[int],
               room: Room | None, patient: Patient | None, load_from: dt.datetime, load_until: dt.datetime,
               now: dt.datetime, exclude_appointment: Appointment | None, exclude_hold: str | None,
               count_holds: bool) -> _Busy:
    # 3. Rooms with what each procedure needs, from the catalog held in memory (plus two small
    #    queries for the procedures' needs unless read with them).
    room_capabilities = {
        each.pk: {int(pk) for pk in each.capability_ids.split(",") if pk}
        for each in catalog.current().rooms.values()
        if each.location_id == location.pk and each.is_active and (room is None or each.pk == room.pk)
    }
    unread = [each for each in procedure_types if not hasattr(each, "required_capability_ids")]
    if len(unread) > 1:
        prefetch_related_objects(unread, "required_capabilities", "alternative_capabilities")
    rooms_of = {procedure_type.pk: capable_room_ids(procedure_type, room_capabilities)
                for procedure_type in procedure_types}
    room_ids = sorted({rid for ids in rooms_of.values() for rid in ids})
    physician_set, room_set = set(physician_ids), set(room_ids)

    # 4. Time off, out-of-service periods and the times patients are holding on the booking
    #    pages (except the caller's own hold), in one query.
    physician_busy: dict[int, list[engine.Span]] = defaultdict(list)
    room_busy: dict[int, list[engine.Span]] = defaultdict(list)
    recovery_busy: list[engine.Span] = []
    for kind, physician_id, room_id, at_location, start, end, discharge, room_start, room_end in _other_busy(
        physician_ids=physician_ids, room_ids=room_ids, location=location, load_from=load_from,
        load_until=load_until, now=now, exclude_hold=exclude_hold, count_holds=count_holds,
    ):
        if kind == _TIME_OFF:
            physician_busy[physician_id].append((start, end))
        elif kind == _OUT_OF_SERVICE:
            room_busy[room_id].append((start, end))
        else:  # a hold: like an appointment, without a patient yet
            if physician_id in physician_set:
                physician_busy[physician_id].append((start, end))
            if room_id in room_set:
                room_busy[room_id].append((room_start, room_end))
            if at_location == location.pk and discharge > end:
                recovery_busy.append((end, discharge))

    # 5. Appointments holding time: at this location (rooms, recovery bays), of these
    #    physicians anywhere, and of the patient anywhere.
    location_id, patient_id = location.pk, patient.pk if patient is not None else None
    rows = _holding_appointments(location_id=location_id, physician_ids=physician_ids, patient_id=patient_id,
                                 load_from=load_from, load_until=load_until,
                                 exclude_id=exclude_appointment.pk if exclude_appointment is not None else None)
    physicians_spans = {pid: physician_busy[pid] for pid in physician_ids}
    rooms_spans = {rid: room_busy[rid] for rid in room_ids}
    for row in rows:  # (location, physician, room, patient, arrival, start, end, discharge, room start, room end)
        spans = physicians_spans.get(row[1])
        if spans is not None:
            spans.append((row[5], row[6]))
        spans = rooms_spans.get(row[2])
        if spans is not None:
            spans.append((row[8], row[9]))
    recovery_busy += [(row[6], row[7]) for row in rows if row[0] == location_id and row[7] > row[6]]
    patient_busy = [(row[4], row[7]) for row in rows if row[3] == patient_id] if patient_id is not None else []

    return _Busy(rooms_of=rooms_of, physician_busy=physician_busy, room_busy=room_busy, recovery_busy=recovery_busy,
                 patient_busy=patient_busy)


def available_slots(**kwargs) -> list[engine.Slot]:
    """Slots for `availability_request`'s arguments, sorted by start.

    A procedure that books a follow-up with the same physician (an SCS trial's lead removal)
    is offered only where that follow-up has a free time on its day too, in any room that suits
    the follow-up: narrowed to a room, the search narrows the procedure, not its follow-up (the
    trial is in the OR, its lead removal in an exam room; booking picks the follow-up's room so).
    """
    procedure_type: ProcedureType = kwargs["procedure_type"]
    limit = kwargs.get("limit")
    if limit is not None and (kwargs["last_day"] - kwargs["first_day"]).days >= LIMITED_CHUNK_DAYS:
        # "The first N from now" rarely needs the whole window: look a week at a time.
        slots: list[engine.Slot] = []
        first_day = kwargs["first_day"]
        while first_day <= kwargs["last_day"] and len(slots) < limit:
            last_day = min(first_day + dt.timedelta(days=LIMITED_CHUNK_DAYS - 1), kwargs["last_day"])
            slots += available_slots(**{**kwargs, "first_day": first_day, "last_day": last_day,
                                        "limit": limit - len(slots)})
            first_day = last_day + dt.timedelta(days=1)
        return slots
    if not procedure_type.follow_up_type_id:
        return engine.find_slots(availability_request(**kwargs))
    limit = kwargs.pop("limit", None)
    slots = engine.find_slots(availability_request(**kwargs))
    offset = dt.timedelta(days=procedure_type.follow_up_days or 0)
    follow_up = engine.find_slots(availability_request(**{
        **kwargs, "procedure_type": procedure_type.follow_up_type, "apply_minimum_notice": False, "room": None,
        "first_day": kwargs["first_day"] + offset, "last_day": kwargs["last_day"] + offset,
    }))
    zone = kwargs["location"].zone
    open_days = {(slot.physician_id, slot.start.astimezone(zone).date()) for slot in follow_up}
    slots = [slot for slot in slots if (slot.physician_id, slot.start.astimezone(zone).date() + offset) in open_days]
    return slots[:limit] if limit is not None else slots


def locations_offering(procedure_type: ProcedureType):
    """The active locations where some active, credentialed physician has blocks of the kind
    the procedure type is booked in."""
    return Location.objects.filter(
        is_active=True, schedule_blocks__kind=procedure_type.schedule_kind,
        schedule_blocks__physician__procedure_types=procedure_type,
        schedule_blocks__physician__is_active=True,
    ).distinct().order_by("name")


def day_visits(*, location: Location, day: dt.date, include_cancelled: bool = False):
    """A location's visits whose procedure starts on `day` (local), in arrival order.

    The one read behind the staff's day: the board, the arrivals desk, a physician's day, the
    printed day sheets and the day's CSV. Everything a line of those shows comes in one query
    (plus one for the patients' blood thinners, which the hold flags need, and one for the
    pre-procedure checks recorded at check-in).
    """
    start, end = window_bounds(location, day, day)
    visits = (
        Appointment.objects.filter(location=location, procedure_start__gte=start, procedure_start__lt=end)
        .select_related("location", "patient", "physician__user", "room", "procedure_type", "order")
        .prefetch_related("patient__blood_thinners",
                          Prefetch("checks", queryset=PreProcedureCheck.objects.select_related("confirmed_by")))
        .order_by("arrival", "procedure_start", "pk")
    )
    if not include_cancelled:
        visits = visits.exclude(status=AppointmentStatus.CANCELLED)
    return visits


def day_blocks(*, location: Location, day: dt.date) -> list[ScheduleBlock]:
    """The schedule blocks of the location's active physicians on `day`, by start, each with its
    physician and user (from the catalog held in memory: no query)."""
    held = catalog.current()
    return sorted((block for block in held.schedule_blocks.get(location.pk, ())
                   if block.weekday == day.weekday() and block.valid_from <= day
                   and (block.valid_until is None or day <= block.valid_until)
                   and getattr(held.physicians.get(block.physician_id), "is_active", False)),
                  key=lambda block: block.start_time)


def day_closure(*, location: Location, day: dt.date) -> Closure | None:
    """The closure covering a location's day, if it is closed: the staff's pages say so and why."""
    return next((closure for closure in catalog.current().closures.get(location.pk, ())
                 if closure.first_day <= day <= closure.last_day), None)
