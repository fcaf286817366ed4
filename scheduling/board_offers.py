"""The day board's "book here": in each room's free stretches, the first time the engine offers.

One availability load for the day, shared by the representative procedure types (the same few
types every day); the engine then walks each type's day once, answering for each of its rooms on
its own, and each free stretch takes the first time found inside it. What was found is kept for a minute
under the day's fingerprint (`cached_offers`): every board open on the day asks again whenever
anything changes, and finding these is most of a board's time.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import F
from django.utils.translation import gettext as _

from clinic.models import Location, Physician, ProcedureType, Room, ScheduleBlock
from scheduling import availability as engine
from scheduling.board_geometry import Scale, Span, hm
from scheduling.selectors import availability_requests, capable_room_ids, with_room_needs

OFFERS_SECONDS = 60  # how long the times found for a day's board are kept (see `cached_offers`)
OFFER_MINUTES = 60  # an offer is drawn over its free stretch up to this long, so its time reads


@dataclass
class Offer:
    """A time the engine offers in a room's free stretch: "book here"."""

    span: Span
    start: dt.datetime  # local
    physician: Physician
    room: Room
    slot_value: str  # the add form's slot choice: start|physician|room
    url: str = ""  # the add form, prefilled (set by the view, which knows the admin's URLs)

    @property
    def start_hm(self) -> str:
        return hm(self.start)

    @property
    def label(self) -> str:
        return _("Book %(room)s at %(time)s with %(physician)s") % {
            "room": self.room.name, "time": hm(self.start), "physician": self.physician.name}


def representative_types(rooms: list[Room], blocks: list[ScheduleBlock]) -> dict[int, ProcedureType]:
    """For each room, the procedure type its free stretches are offered for: of the active
    types the room can host and that a physician working that day (`blocks`) does in such a
    block, the self-bookable first, then the shortest. Types that book a follow-up visit are left
    out (their offer depends on another day)."""
    types = list(with_room_needs(
        ProcedureType.objects.filter(
            is_active=True, follow_up_type__isnull=True, physicians__is_active=True,
            physicians__schedule_blocks__in=[block.pk for block in blocks],
            physicians__schedule_blocks__kind=F("schedule_kind"),
        ).distinct()
    ))
    types.sort(key=lambda procedure_type: (not procedure_type.self_bookable, procedure_type.total_minutes,
                                           procedure_type.code))
    capabilities = {room.pk: {capability.pk for capability in room.capabilities.all()} for room in rooms}
    chosen: dict[int, ProcedureType] = {}
    for procedure_type in types:
        for room_id in capable_room_ids(procedure_type, capabilities):
            chosen.setdefault(room_id, procedure_type)
    return chosen


def free_stretches(lane, opens: dt.datetime, closes: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The room's free stretches within the board's span (`lane.visits`: the room's visits)."""
    busy = sorted((visit.room_start, visit.room_end) for visit in lane.visits if visit.holding)
    gaps, free_from = [], opens
    for start, end in busy:
        if start > free_from:
            gaps.append((free_from, start))
        free_from = max(free_from, end)
    if free_from < closes:
        gaps.append((free_from, closes))
    return gaps


def find_offers(*, location: Location, day: dt.date, now: dt.datetime, lanes: list, rooms: list[Room],
                blocks: list[ScheduleBlock], scale: Scale, opens: dt.datetime, closes: dt.datetime,
                physician: Physician | None, known_physicians: dict[int, Physician]) -> None:
    """Fill each room lane's offers: in each free stretch, the first start the engine offers there.

    The engine answers for each room on its own (`find_slots_by_room`: asked for several rooms,
    `find_slots` gives a start to the first free room only). A time is offered
    in a stretch when the room's whole time (setup to turnover) lies inside it.
    """
    representative = representative_types([room for room in rooms if room.is_active], blocks)
    types = {procedure_type.pk: procedure_type for procedure_type in representative.values()}
    requests = availability_requests(
        procedure_types=list(types.values()), location=location, first_day=day, last_day=day, now=now,
        physician=physician, apply_minimum_notice=False) if types else {}
    physicians = dict(known_physicians)
    rooms_by_id = {room.pk: room for room in rooms}
    gaps_by_room: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for lane in lanes:
        procedure_type = representative.get(lane.object_id)
        if procedure_type is None:
            continue
        room_time = dt.timedelta(minutes=procedure_type.setup_minutes + procedure_type.procedure_minutes
                                 + procedure_type.turnover_minutes)
        gaps = [(start, end) for start, end in free_stretches(lane, opens, closes) if end - start >= room_time]
        if gaps:
            gaps_by_room[lane.object_id] = gaps
    found_by_lane: dict[int, list[tuple[engine.Slot, dt.datetime, dt.datetime]]] = {}
    for type_id, procedure_type in types.items():
        request = requests[type_id]
        # Only the rooms this type is offered in, each on its own.
        room_inputs = [room for room in request.rooms
                       if room.id in gaps_by_room and representative[room.id].pk == type_id]
        if not room_inputs:
            continue
        setup = dt.timedelta(minutes=procedure_type.setup_minutes)
        turnover = dt.timedelta(minutes=procedure_type.turnover_minutes)
        # The engine's `earliest` bounds the arrival; a room time from the first stretch's start on.
        first_arrival = min(gaps_by_room[room.id][0][0] for room in room_inputs) + setup \
            - dt.timedelta(minutes=procedure_type.prep_minutes)
        earliest = max(request.earliest, first_arrival) if request.earliest else first_arrival
        slots_by_room = engine.find_slots_by_room(
            dataclasses.replace(request, rooms=room_inputs, earliest=earliest, limit=None))
        for room_id, slots in slots_by_room.items():
            room_starts = [slot.start - setup for slot in slots]
            chosen = []
            for gap_start, gap_end in gaps_by_room[room_id]:
                index = bisect.bisect_left(room_starts, gap_start)  # the first whose room time starts in the stretch
                if index < len(slots) and slots[index].start < gap_end and slots[index].end + turnover <= gap_end:
                    slot, room_from = slots[index], room_starts[index]
                    drawn_until = min(gap_end, max(slot.end + turnover,
                                                   room_from + dt.timedelta(minutes=OFFER_MINUTES)))
                    chosen.append((slot, room_from, drawn_until))
            found_by_lane[room_id] = chosen
    wanted = {slot.physician_id for chosen in found_by_lane.values() for slot, _, _ in chosen} - set(physicians)
    if wanted:  # known from the day's blocks; looked up only if not
        physicians.update(Physician.objects.select_related("user").in_bulk(wanted))
    for lane in lanes:
        for slot, room_from, drawn_until in found_by_lane.get(lane.object_id, ()):
            lane.offers.append(Offer(
                span=scale.span(room_from, drawn_until), start=slot.start.astimezone(location.zone),
                physician=physicians[slot.physician_id], room=rooms_by_id[lane.object_id],
                slot_value=f"{slot.start.isoformat()}|{slot.physician_id}|{slot.room_id}",
            ))


def cached_offers(*, location: Location, day: dt.date, now: dt.datetime, lanes: list, fingerprint: str,
                  physician: Physician | None, room: Room | None, known_physicians: dict[int, Physician],
                  **arguments) -> None:
    """`find_offers`, kept for a minute under the day's fingerprint. A booking, cancellation or
    status change makes a new fingerprint; what it cannot see (a patient holding a time on the
    booking pages, a physician's time off) is at most a minute old, and the booking form checks
    the time again anyway."""
    key = "board-offers:" + ":".join(str(part) for part in (
        location.pk, day.isoformat(), physician.pk if physician else "-", room.pk if room else "-", fingerprint,
        int(now.timestamp()) // OFFERS_SECONDS))
    cached = cache.get(key)
    if cached is None:
        find_offers(location=location, day=day, now=now, lanes=lanes, physician=physician,
                    known_physicians=known_physicians, **arguments)
        cache.set(key, {lane.object_id: [(offer.span.left, offer.span.width, offer.start, offer.physician.pk,
                                          offer.slot_value) for offer in lane.offers] for lane in lanes},
                  OFFERS_SECONDS)
        return
    physicians = dict(known_physicians)
    wanted = {offer[3] for offers in cached.values() for offer in offers} - set(physicians)
    if wanted:
        physicians.update(Physician.objects.select_related("user").in_bulk(wanted))
    rooms = {room.pk: room for room in arguments["rooms"]}
    for lane in lanes:
        lane.offers = [Offer(span=Span(left, width), start=start, physician=physicians[physician_id],
                             room=rooms[lane.object_id], slot_value=slot_value)
                       for left, width, start, physician_id, slot_value in cached.get(lane.object_id, [])]
