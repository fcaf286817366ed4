"""Booked visits that a change of plans has made impossible ("stranded"), and why.

There is one rule, the booking engine's: a booked visit is still feasible when
`availability.explain_unavailable` accepts its own start, physician and room against the
clinic's resources as they are now. That is: the physician is active and credentialed for the
procedure, inside one of their blocks of the right kind at the visit's location that day, not
on time off; the location is not closed; the room is active, has what the procedure needs and
is not out of service.

The engine's input is built here for many visits at once (the selector behind `availability_
request` builds it for one procedure type and location), in a fixed number of queries. Other
booked visits are left out of it, but for the recovery bays: booked visits never share a
physician, room or patient (the booking checks and, on PostgreSQL, exclusion constraints see to
it), while a location's recoveries share its pool of bays, which the location's staff can make
smaller. A booked visit is stranded when the recoveries ranked before it fill every bay at some
moment of its own: those of visits already under way or done, then of visits booked before it
(by id: a rescheduled visit keeps its place). Only direct overlaps count, so cancelling a visit
or adding bays never strands another, and a visit's verdict does not depend on which others are
asked about. The minimum notice, the booking horizon and the slot grid are rules for offering
new times, not for keeping booked ones.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic.models import Closure, Location, Physician, ProcedureType, Room, RoomOutOfService, ScheduleBlock, TimeOff
from scheduling import availability as engine
from scheduling.models import BOOKED_STATUSES, Appointment
from scheduling.nearby import epoch_sql, holding, near_locations
from scheduling.selectors import Epoch, capable_room_ids, segments_of

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


_INSTANTS = ("procedure_start", "procedure_end", "room_start", "room_end", "discharge")


@dataclass(frozen=True)
class _Visit:
    """What the rule needs of a booked visit, read as plain values."""

    pk: int
    location_id: int
    physician_id: int
    room_id: int
    procedure_type_id: int
    procedure_start: dt.datetime
    procedure_end: dt.datetime
    room_start: dt.datetime
    room_end: dt.datetime
    discharge: dt.datetime


def stranded_visits(*, now: dt.datetime, visits: QuerySet[Appointment] | None = None,
                    until: dt.datetime | None = None) -> list[StrandedVisit]:
    """Of `visits` (default: every visit), the booked ones still to start after `now` (and
    before `until`) that the engine would not accept as they stand, in start order.

    At most fifteen queries whatever the number of visits: the visits as plain values; their locations,
    procedure types (with their room needs), rooms (with their capabilities) and physicians;
    the physicians' credentials, blocks and time off; the closures; the rooms' out-of-service
    periods; the locations' recoveries; and, for the stranded ones only, what a list of them shows.
    """
    reasons = _stranded_reasons(now=now, visits=visits, until=until)
    if not reasons:
        return []
    appointments = (
        Appointment.objects.filter(pk__in=reasons)
        .select_related("patient", "physician__user", "room", "procedure_type", "location")
        .order_by("procedure_start", "pk")
    )
    return [StrandedVisit(appointment=appointment, reasons=reasons[appointment.pk]) for appointment in appointments]


def _visit_rows(scope: QuerySet[Appointment]) -> list[tuple]:
    """The visits as plain tuples (`_Visit`'s fields), their instants as epoch seconds: thousands
    of rows read several times faster than as parsed timestamps, and the tuples are what
    `attention_count` keeps its verdicts under."""
    return list(scope.order_by().annotate(**{f"{name}_epoch": Epoch(name) for name in _INSTANTS}).values_list(
        "pk", "location_id", "physician_id", "room_id", "procedure_type_id", *(f"{name}_epoch" for name in _INSTANTS),
    ))


def _visit(values: tuple) -> _Visit:
    utc = dt.timezone.utc
    return _Visit(*values[:5], *(dt.datetime.fromtimestamp(epoch, utc) for epoch in values[5:]))


def _stranded_reasons(*, now: dt.datetime, visits: QuerySet[Appointment] | None,
                      until: dt.datetime | None) -> dict[int, tuple[str, ...]]:
    """The stranded visits' ids, each with why."""
    scope = booked_visits(now=now, until=until)
    if visits is not None:
        scope = scope.filter(pk__in=visits.values("pk"))
    values = _visit_rows(scope)
    if not values:
        return {}
    resources = _Resources(values, now=now)
    reasons = {}
    for row in map(_visit, values):
        why = _why_stranded(row, resources)
        if why:
            reasons[row.pk] = why
    return reasons


class _Resources:
    """Everything the rule reads about the visits' physicians, rooms and locations, loaded at once."""

    def __init__(self, rows: list[tuple], *, now: dt.datetime):
        """`rows`: the visits as `_visit_rows` reads them."""
        pk, location, physician, room, procedure_type, start, end, room_start, room_end, discharge = range(10)
        physician_ids = {row[physician] for row in rows}
        room_ids = {row[room] for row in rows}
        location_ids = {row[location] for row in rows}
        procedure_type_ids = {row[procedure_type] for row in rows}
        utc = dt.timezone.utc
        load_from = dt.datetime.fromtimestamp(min(row[room_start] for row in rows), utc) - _MARGIN
        last_end = max(max(row[room_end], row[discharge]) for row in rows)
        load_until = dt.datetime.fromtimestamp(last_end, utc) + _MARGIN
        first_day, last_day = load_from.date(), load_until.date()
        recoveries = [(row[end], row[discharge]) for row in rows if row[discharge] > row[end]]

        self.locations = Location.objects.in_bulk(location_ids)
        self.procedure_types = ProcedureType.objects.prefetch_related(
            "required_capabilities", "alternative_capabilities").in_bulk(procedure_type_ids)
        self.rooms = Room.objects.in_bulk(room_ids)
        self.physicians = Physician.objects.select_related("user").in_bulk(physician_ids)
        self.credentials = set(Physician.procedure_types.through.objects.filter(
            physician_id__in=physician_ids, proceduretype_id__in=procedure_type_ids,
        ).values_list("physician_id", "proceduretype_id"))

        self.blocks: dict[tuple[int, int, str], list[engine.WeeklyBlock]] = defaultdict(list)
        for physician_id, location_id, kind, weekday, start, end, valid_from, valid_until in ScheduleBlock.objects.filter(
            physician_id__in=physician_ids, valid_from__lte=last_day,
        ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first_day)).values_list(
            "physician_id", "location_id", "kind", "weekday", "start_time", "end_time", "valid_from", "valid_until",
        ):
            self.blocks[physician_id, location_id, kind].append(
                engine.WeeklyBlock(weekday, start, end, valid_from, valid_until))

        self.time_off: dict[int, list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
        for physician_id, starts_at, ends_at, reason in TimeOff.objects.filter(
            physician_id__in=physician_ids, starts_at__lt=load_until, ends_at__gt=load_from,
        ).values_list("physician_id", "starts_at", "ends_at", "reason"):
            self.time_off[physician_id].append((starts_at, ends_at, reason))

        self.closures: dict[int, list[tuple[dt.date, dt.date, str]]] = defaultdict(list)
        for location_id, first, last, reason in Closure.objects.filter(
            location_id__in=location_ids, first_day__lte=last_day, last_day__gte=first_day,
        ).values_list("location_id", "first_day", "last_day", "reason"):
            self.closures[location_id].append((first, last, reason))

        capabilities: dict[int, set[int]] = {room_id: set() for room_id in room_ids}
        for room_id, capability_id in Room.capabilities.through.objects.filter(room_id__in=room_ids).values_list(
            "room_id", "capability_id"
        ):
            capabilities[room_id].add(capability_id)
        self._capabilities = capabilities
        self._capable: dict[tuple[int, int], bool] = {}

        self.out_of_service: dict[int, list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
        for room_id, starts_at, ends_at, reason in RoomOutOfService.objects.filter(
            room_id__in=room_ids, starts_at__lt=load_until, ends_at__gt=load_from,
        ).values_list("room_id", "starts_at", "ends_at", "reason"):
            self.out_of_service[room_id].append((starts_at, ends_at, reason))

        self.over_bays = _over_recovery_bays(
            _recoveries_near(location_ids, min(recoveries)[0], max(until for _, until in recoveries)),
            {location_id: each.recovery_bays for location_id, each in self.locations.items()},
            now=now.timestamp()) if recoveries else set()

    def fingerprint(self) -> str:
        """A digest of everything loaded: equal digests, equal verdicts for an unchanged visit.
        Whole rows (every column), so a field the rule comes to read later is covered too."""
        def columns(instance) -> tuple:
            return tuple(getattr(instance, field.attname) for field in instance._meta.concrete_fields)

        facts = [repr(("location", columns(each))) for each in self.locations.values()]
        facts += [repr(("procedure", columns(each), sorted(c.pk for c in each.required_capabilities.all()),
                        sorted(c.pk for c in each.alternative_capabilities.all())))
                  for each in self.procedure_types.values()]
        facts += [repr(("room", columns(each), sorted(self._capabilities.get(each.pk, ()))))
                  for each in self.rooms.values()]
        facts += [repr(("physician", columns(each))) for each in self.physicians.values()]
        facts += [repr(("credential", each)) for each in self.credentials]
        for name, facts_by_key in (("blocks", self.blocks), ("time off", self.time_off), ("closures", self.closures),
                                   ("out of service", self.out_of_service)):
            facts += [repr((name, key, each)) for key, values in facts_by_key.items() for each in values]
        return hashlib.sha256("\n".join(sorted(facts)).encode()).hexdigest()

    def capable(self, room: Room, procedure_type: ProcedureType, location: Location) -> bool:
        """The room is in use at the visit's location and has what the procedure needs."""
        key = (room.pk, procedure_type.pk)
        if key not in self._capable:
            self._capable[key] = room.is_active and room.location_id == location.pk and bool(
                capable_room_ids(procedure_type, {room.pk: self._capabilities.get(room.pk, set())}))
        return self._capable[key]


def _recoveries_near(location_ids, since: int, until: int) -> list[tuple]:
    """The recoveries at these locations overlapping [since, until) (epoch seconds), of visits
    holding time: (id, location id, status, procedure start, recovery start, recovery end)."""
    utc, adapt = dt.timezone.utc, connection.ops.adapt_datetimefield_value
    since_at, until_at = adapt(dt.datetime.fromtimestamp(since, utc)), adapt(dt.datetime.fromtimestamp(until, utc))
    near, params = near_locations(sorted(location_ids), since_at, until_at)
    sql = (f"SELECT id, location_id, status, {epoch_sql('procedure_start')}, {epoch_sql('procedure_end')}, "
           f"{epoch_sql('discharge')} FROM {Appointment._meta.db_table} WHERE {holding()} "
           f"AND discharge > procedure_end AND procedure_end < %s AND discharge > %s AND {near}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [until_at, since_at, *params])
        return cursor.fetchall()


def _over_recovery_bays(recoveries: list[tuple], bays: dict[int, int], *, now: float) -> set[int]:
    """The booked visits whose recovery finds every bay of their location taken, at some moment,
    by the recoveries ranked before it: first those of visits under way or done (they cannot
    move), then those of visits booked before it (a smaller id). Of `_recoveries_near`'s rows."""
    by_location: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for pk, location_id, status, procedure_start, start, end in recoveries:
        movable = status in BOOKED_STATUSES and procedure_start > now
        by_location[location_id].append((int(movable), pk, start, end))
    over = set()
    for location_id, visits in by_location.items():
        longest = max(end - start for _, _, start, end in visits)
        ranked: list[tuple[int, int]] = []  # (start, end) of the recoveries ranked so far, by start
        for movable, pk, start, end in sorted(visits):
            # A ranked recovery overlapping this one starts less than the longest before its end.
            first, until = bisect.bisect_left(ranked, (start - longest, 0)), bisect.bisect_left(ranked, (end, 0))
            near = [(other_start, other_end) for other_start, other_end in ranked[first:until] if other_end > start]
            if movable and engine.BusySpans(engine.saturated_spans(near, bays[location_id])).overlaps(start, end):
                over.add(pk)
            bisect.insort(ranked, (start, end))
    return over


def _from_start(blocks, local_start: dt.datetime) -> list[engine.WeeklyBlock]:
    """The blocks as the engine needs them to judge one start: a block holding the start is
    passed from that start on. The answer is the same (the start lies on the grid, so it is a
    grid start of the block exactly when it is one of the block from itself on), and the engine
    is spared walking the grid from the block's opening for every visit."""
    wall = local_start.time().replace(tzinfo=None)
    return [
        engine.WeeklyBlock(block.weekday, wall, block.end, block.valid_from, block.valid_until)
        if block.weekday == local_start.weekday() and block.start <= wall < block.end else block
        for block in blocks
    ]


def _why_stranded(visit: _Visit, resources: _Resources, *, bays: bool = True) -> tuple[str, ...]:
    """Empty when the engine accepts the visit as it stands and (with `bays`) its recovery has a
    bay; else the facts that keep it from it."""
    location = resources.locations[visit.location_id]
    procedure_type = resources.procedure_types[visit.procedure_type_id]
    physician, room = resources.physicians[visit.physician_id], resources.rooms[visit.room_id]
    zone = location.zone
    start = visit.procedure_start.astimezone(zone)
    day = start.date()

    credentialed = physician.is_active and (physician.pk, procedure_type.pk) in resources.credentials
    time_off = resources.time_off.get(physician.pk, ())
    physicians = [engine.PhysicianInput(
        id=physician.pk,
        blocks=_from_start(resources.blocks.get((physician.pk, location.pk, procedure_type.schedule_kind), ()), start),
        busy=[(starts_at, ends_at) for starts_at, ends_at, _reason in time_off],
    )] if credentialed else []
    capable = resources.capable(room, procedure_type, location)
    out_of_service = resources.out_of_service.get(room.pk, ())
    rooms = [engine.RoomInput(
        id=room.pk, busy=[(starts_at, ends_at) for starts_at, ends_at, _reason in out_of_service],
    )] if capable else []
    closed = [reason for first, last, reason in resources.closures.get(location.pk, ()) if first <= day <= last]
    minute_of_day = start.hour * 60 + start.minute
    request = engine.Request(
        segments=segments_of(procedure_type), zone=zone, first_day=day, last_day=day,
        physicians=physicians, rooms=rooms, recovery_bays=location.recovery_bays,
        closed_days=frozenset([day] if closed else []),
        # The visit's own start is on the grid it was booked on, even if the grid changed since.
        grid_minutes=math.gcd(minute_of_day, location.slot_interval_minutes) or location.slot_interval_minutes,
    )
    verdict = engine.explain_unavailable(request, start, physician.pk, room.pk)
    over_bays = bays and visit.pk in resources.over_bays
    if verdict is None and not over_bays:
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
    for starts_at, ends_at, reason in time_off:
        if starts_at < visit.procedure_end and ends_at > visit.procedure_start:
            reasons.append(_("%(physician)s is off from %(start)s to %(end)s%(reason)s.") % {
                "physician": physician.name, "start": _local(starts_at, zone), "end": _local(ends_at, zone),
                "reason": f" ({reason})" if reason else ""})
    if not room.is_active:
        reasons.append(_("%(room)s is no longer in use.") % {"room": room.name})
    elif not capable:
        reasons.append(_("%(room)s no longer has what %(procedure)s needs.")
                       % {"room": room.name, "procedure": procedure_type.name})
    for starts_at, ends_at, reason in out_of_service:
        if starts_at < visit.room_end and ends_at > visit.room_start:
            reasons.append(_("%(room)s is out of service from %(start)s to %(end)s (%(reason)s).") % {
                "room": room.name, "start": _local(starts_at, zone), "end": _local(ends_at, zone), "reason": reason})
    if over_bays:
        recovers, until = visit.procedure_end.astimezone(zone), visit.discharge.astimezone(zone)
        words = {"location": location.name, "bays": location.recovery_bays, "start": _local(recovers, zone),
                 "end": f"{until:%H:%M}" if until.date() == recovers.date() else _local(until, zone)}
        reasons.append(ngettext(
            "%(location)s has %(bays)s recovery bay, taken during this visit's recovery (%(start)s to %(end)s) "
            "by a visit booked before it or already under way.",
            "%(location)s has %(bays)s recovery bays, all taken during this visit's recovery (%(start)s to "
            "%(end)s) by visits booked before it or already under way.", location.recovery_bays) % words
            if location.recovery_bays else
            _("%(location)s has no recovery bays, and this visit needs one from %(start)s to %(end)s.") % words)
    return tuple(reasons) or (verdict,)


ATTENTION_COUNT_SECONDS = 60
VERDICTS_SECONDS = 24 * 60 * 60  # the verdicts of a location's visits, kept while its facts hold


def _count_key(location_id: int) -> str:
    return f"attention-count:{location_id}"


def attention_count(location: Location, *, now: dt.datetime) -> int:
    """How many of a location's visits up to its booking horizon are stranded: the board's badge.

    Kept for a minute per location, then counted again (`_stranded_count`). The attention page
    always reads afresh, and the admin's changes and the page's actions clear the count, so only
    a change made outside Interval's pages (an import, the database) shows up to a minute late.
    """
    key = _count_key(location.pk)
    count = cache.get(key)
    if count is None:
        count = _stranded_count(location, now=now)
        cache.set(key, count, ATTENTION_COUNT_SECONDS)
    return count


def _stranded_count(location: Location, *, now: dt.datetime) -> int:
    """The rule run on every booked visit up to the horizon, but judging again only what changed.

    Every visit and everything the rule reads about the clinic are loaded afresh each time (a
    few queries), so nothing is missed, changes made outside Interval included; the engine's
    verdict, a fraction of a millisecond per visit and thousands of visits, is kept per visit
    (its whole row) under a digest of the clinic's facts loaded. While that digest holds, only
    new or changed visits are judged; any change to a block, a room, a physician, a closure,
    time off or the catalog that the load sees judges every visit again. Whether a recovery has
    a bay depends on the other visits, so it is not kept: it is read afresh (one query) and
    swept each time.
    """
    values = _visit_rows(booked_visits(now=now, until=upcoming_until(location, now)).filter(location=location))
    if not values:
        return 0
    resources = _Resources(values, now=now)
    digest = resources.fingerprint()
    kept = cache.get(_verdicts_key(location.pk))
    verdicts = kept[1] if kept is not None and kept[0] == digest else {}
    judged = {each: verdicts[each] if each in verdicts else _is_stranded(_visit(each), resources) for each in values}
    cache.set(_verdicts_key(location.pk), (digest, judged), VERDICTS_SECONDS)
    # The recovery bays depend on the other visits: judged afresh, from one query and one sweep.
    return sum(stranded or each[0] in resources.over_bays for each, stranded in judged.items())


def _is_stranded(visit: _Visit, resources: _Resources) -> bool:
    """The engine's verdict alone, which holds while the clinic's facts (the digest) do."""
    return bool(_why_stranded(visit, resources, bays=False))


def _verdicts_key(location_id: int) -> str:
    return f"attention-verdicts:{location_id}"


def attention_count_clear() -> None:
    """After a change that may strand or resolve visits: every location's count is read afresh."""
    cache.delete_many([_count_key(pk) for pk in Location.objects.values_list("pk", flat=True)])
