"""Booked visits that a change of plans has made impossible ("stranded"), and why.

There is one rule, the booking engine's: a booked visit is still feasible when
`availability.explain_unavailable` accepts its own start, physician and room against the
clinic's resources as they are now. That is: the physician is active and credentialed for the
procedure, inside one of their blocks of the right kind at the visit's location that day, not
on time off; the location is not closed; the room is active, has what the procedure needs and
is not out of service.

The engine's input is built here for many visits at once (the selector behind `availability_
request` builds it for one procedure type and location), in a fixed number of queries. Other
booked visits are left out of it: booked visits never overlap one another (the booking checks
and, on PostgreSQL, exclusion constraints see to it), and the minimum notice, the booking
horizon and the slot grid are rules for offering new times, not for keeping booked ones.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from clinic.models import Closure, Location, Physician, Room, RoomOutOfService, ScheduleBlock, TimeOff
from scheduling import availability as engine
from scheduling.models import BOOKED_STATUSES, Appointment
from scheduling.selectors import capable_room_ids, segments_of

_MARGIN = dt.timedelta(days=1)  # local days differ from UTC days by less than this


@dataclass(frozen=True)
class StrandedVisit:
    """A booked visit the engine would no longer accept, with why in the front desk's words."""

    appointment: Appointment
    reasons: tuple[str, ...]


def upcoming_until(location: Location, now: dt.datetime) -> dt.datetime:
    """The end of the window a location's attention list covers: its booking horizon."""
    return now + dt.timedelta(days=location.booking_horizon_days)


def booked_visits(*, now: dt.datetime, until: dt.datetime | None = None) -> QuerySet[Appointment]:
    """Booked visits whose procedure is still to start after `now` (and before `until`)."""
    visits = Appointment.objects.filter(status__in=BOOKED_STATUSES, procedure_start__gt=now)
    if until is not None:
        visits = visits.filter(procedure_start__lt=until)
    return visits


def _local(instant: dt.datetime, zone) -> str:
    return f"{instant.astimezone(zone):%a %d %b %H:%M}"


def stranded_visits(*, now: dt.datetime, visits: QuerySet[Appointment] | None = None,
                    until: dt.datetime | None = None) -> list[StrandedVisit]:
    """Of `visits` (default: every visit), the booked ones still to start after `now` (and
    before `until`) that the engine would not accept as they stand, in start order.

    Nine queries whatever the number of visits: the visits (with what a list of them shows),
    the procedures' room needs (two), and the credentials, blocks, time off, closures, room
    capabilities and out-of-service periods of the physicians, locations and rooms involved.
    """
    scope = booked_visits(now=now, until=until)
    if visits is not None:
        scope = scope.filter(pk__in=visits.values("pk"))
    rows = list(
        scope.select_related("patient", "physician__user", "room", "procedure_type", "location")
        .prefetch_related("procedure_type__required_capabilities", "procedure_type__alternative_capabilities")
        .order_by("procedure_start", "pk")
    )
    if not rows:
        return []
    physician_ids = {row.physician_id for row in rows}
    room_ids = {row.room_id for row in rows}
    location_ids = {row.location_id for row in rows}
    load_from = min(row.procedure_start for row in rows) - _MARGIN
    load_until = max(row.room_end for row in rows) + _MARGIN
    first_day, last_day = load_from.date(), load_until.date()

    credentials = set(Physician.procedure_types.through.objects.filter(
        physician_id__in=physician_ids, proceduretype_id__in={row.procedure_type_id for row in rows},
    ).values_list("physician_id", "proceduretype_id"))

    blocks: dict[tuple[int, int, str], list[engine.WeeklyBlock]] = defaultdict(list)
    for physician_id, location_id, kind, weekday, start, end, valid_from, valid_until in ScheduleBlock.objects.filter(
        physician_id__in=physician_ids, valid_from__lte=last_day,
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first_day)).values_list(
        "physician_id", "location_id", "kind", "weekday", "start_time", "end_time", "valid_from", "valid_until",
    ):
        blocks[physician_id, location_id, kind].append(engine.WeeklyBlock(weekday, start, end, valid_from, valid_until))

    time_off: dict[int, list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
    for physician_id, starts_at, ends_at, reason in TimeOff.objects.filter(
        physician_id__in=physician_ids, starts_at__lt=load_until, ends_at__gt=load_from,
    ).values_list("physician_id", "starts_at", "ends_at", "reason"):
        time_off[physician_id].append((starts_at, ends_at, reason))

    closures: dict[int, list[tuple[dt.date, dt.date, str]]] = defaultdict(list)
    for location_id, first, last, reason in Closure.objects.filter(
        location_id__in=location_ids, first_day__lte=last_day, last_day__gte=first_day,
    ).values_list("location_id", "first_day", "last_day", "reason"):
        closures[location_id].append((first, last, reason))

    capabilities: dict[int, set[int]] = {room_id: set() for room_id in room_ids}
    for room_id, capability_id in Room.capabilities.through.objects.filter(room_id__in=room_ids).values_list(
        "room_id", "capability_id"
    ):
        capabilities[room_id].add(capability_id)

    out_of_service: dict[int, list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
    for room_id, starts_at, ends_at, reason in RoomOutOfService.objects.filter(
        room_id__in=room_ids, starts_at__lt=load_until, ends_at__gt=load_from,
    ).values_list("room_id", "starts_at", "ends_at", "reason"):
        out_of_service[room_id].append((starts_at, ends_at, reason))

    stranded = []
    for appointment in rows:
        reasons = _why_stranded(appointment, credentials=credentials, blocks=blocks, time_off=time_off,
                                closures=closures, capabilities=capabilities, out_of_service=out_of_service)
        if reasons:
            stranded.append(StrandedVisit(appointment=appointment, reasons=reasons))
    return stranded


def _why_stranded(appointment: Appointment, *, credentials, blocks, time_off, closures, capabilities,
                  out_of_service) -> tuple[str, ...]:
    """Empty when the engine accepts the visit as it stands; else the facts that keep it from it."""
    location, procedure_type = appointment.location, appointment.procedure_type
    physician, room = appointment.physician, appointment.room
    zone = location.zone
    start = appointment.procedure_start.astimezone(zone)
    day = start.date()

    credentialed = physician.is_active and (physician.pk, procedure_type.pk) in credentials
    physicians = [engine.PhysicianInput(
        id=physician.pk, blocks=blocks.get((physician.pk, location.pk, procedure_type.schedule_kind), ()),
        busy=[(starts_at, ends_at) for starts_at, ends_at, _reason in time_off.get(physician.pk, ())],
    )] if credentialed else []
    capable = room.is_active and room.location_id == location.pk and bool(
        capable_room_ids(procedure_type, {room.pk: capabilities.get(room.pk, set())}))
    rooms = [engine.RoomInput(
        id=room.pk, busy=[(starts_at, ends_at) for starts_at, ends_at, _reason in out_of_service.get(room.pk, ())],
    )] if capable else []
    closed = [reason for first, last, reason in closures.get(location.pk, ()) if first <= day <= last]
    minute_of_day = start.hour * 60 + start.minute
    request = engine.Request(
        segments=segments_of(procedure_type), zone=zone, first_day=day, last_day=day,
        physicians=physicians, rooms=rooms, recovery_bays=location.recovery_bays,
        closed_days=frozenset([day] if closed else []),
        # The visit's own start is on the grid it was booked on, even if the grid changed since.
        grid_minutes=math.gcd(minute_of_day, location.slot_interval_minutes) or location.slot_interval_minutes,
    )
    verdict = engine.explain_unavailable(request, start, physician.pk, room.pk)
    if verdict is None:
        return ()

    # The engine judges; these say which of the clinic's changes stand in the visit's way.
    reasons = []
    if not physician.is_active:
        reasons.append(_("%(physician)s is no longer active.") % {"physician": physician.name})
    elif not credentialed:
        reasons.append(_("%(physician)s is no longer credentialed for %(procedure)s.")
                       % {"physician": physician.name, "procedure": procedure_type.name})
    for reason in closed:
        reasons.append(_("The clinic is closed that day (%(reason)s).") % {"reason": reason})
    for starts_at, ends_at, reason in time_off.get(physician.pk, ()):
        if starts_at < appointment.procedure_end and ends_at > appointment.procedure_start:
            reasons.append(_("%(physician)s is off from %(start)s to %(end)s%(reason)s.") % {
                "physician": physician.name, "start": _local(starts_at, zone), "end": _local(ends_at, zone),
                "reason": f" ({reason})" if reason else ""})
    if not room.is_active:
        reasons.append(_("%(room)s is no longer in use.") % {"room": room.name})
    elif not capable:
        reasons.append(_("%(room)s no longer has what %(procedure)s needs.")
                       % {"room": room.name, "procedure": procedure_type.name})
    for starts_at, ends_at, reason in out_of_service.get(room.pk, ()):
        if starts_at < appointment.room_end and ends_at > appointment.room_start:
            reasons.append(_("%(room)s is out of service from %(start)s to %(end)s (%(reason)s).") % {
                "room": room.name, "start": _local(starts_at, zone), "end": _local(ends_at, zone), "reason": reason})
    return tuple(reasons) or (verdict,)


def attention_count(location: Location, *, now: dt.datetime) -> int:
    """How many of a location's visits up to its booking horizon are stranded: the board's badge."""
    visits = Appointment.objects.filter(location=location)
    return len(stranded_visits(now=now, visits=visits, until=upcoming_until(location, now)))
