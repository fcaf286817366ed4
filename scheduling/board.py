"""The day board's data: a location's day as lanes of positioned segments, computed here.

`day_board` reads a location's day in a fixed number of queries, however many visits it has:
rooms, the day's schedule blocks, the visits (`selectors.day_visits`), and, for the times the
engine offers in the rooms' free stretches, one availability load per representative
procedure type (the same few types every day). Positions are percentages of the day's span,
worked out from the stored instants, so the template only draws.

`board_fingerprint` is the cheap question the board asks every 30 seconds ("did anything
change?"); `earlier_outcomes` gives a physician's day the patients' earlier procedures and
their relief in one query.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, F, Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.models import Location, Physician, ProcedureType, Room, ScheduleBlock
from scheduling import availability as engine
from scheduling.models import HOLDING_STATUSES, Appointment, AppointmentStatus, Outcome
from scheduling.pathways.holds import hold_notice_days, holds_told_too_late
from scheduling.selectors import availability_request, capable_room_ids, day_visits, window_bounds

# When nobody works that day, the board still shows a working day.
DEFAULT_OPENS, DEFAULT_CLOSES = 7 * 60, 18 * 60
# A visit still scheduled this close to its start has not been confirmed in time.
CONFIRM_WITHIN = dt.timedelta(hours=48)
ROW_HEIGHT = 58  # px of one row of a lane; the template's SVGs are drawn in pixels vertically
RECOVERY_HEIGHT = 56
# Statuses of visits under way, the nurse's view: checked in, in procedure, in recovery.
UNDER_WAY = (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROCEDURE, AppointmentStatus.IN_RECOVERY)
# The status written in a narrow block (the legend spells each out; the full word is in the
# block's accessible name, its tooltip and the list).
STATUS_SHORT = {
    AppointmentStatus.SCHEDULED: gettext_lazy("Sched."),
    AppointmentStatus.CONFIRMED: gettext_lazy("Conf."),
    AppointmentStatus.CHECKED_IN: gettext_lazy("In"),
    AppointmentStatus.IN_PROCEDURE: gettext_lazy("Proc."),
    AppointmentStatus.IN_RECOVERY: gettext_lazy("Rec."),
    AppointmentStatus.COMPLETED: gettext_lazy("Done"),
    AppointmentStatus.CANCELLED: gettext_lazy("Canc."),
    AppointmentStatus.NO_SHOW: gettext_lazy("No-show"),
}
COMPACT_MINUTES = 45  # a block shorter than this (room time) is too narrow for the full status
OFFERS_SECONDS = 60  # how long the times found for a day's board are kept (see `_cached_offers`)
OFFER_MINUTES = 60  # an offer is drawn over its free stretch up to this long, so its time reads
# What the board reads of a day's visits (`day_visits` selects the related rows whole).
BOARD_COLUMNS = [
    *(field.name for field in Appointment._meta.concrete_fields),
    "location__name", "location__time_zone", "location__recovery_bays",
    "patient__first_name", "patient__last_name", "patient__date_of_birth", "patient__phone", "patient__email",
    "patient__needs_review", "patient__sms_consent", "patient__email_consent",
    "physician__user", "physician__is_active", "physician__credentials",
    "physician__user__first_name", "physician__user__last_name", "physician__user__username",
    "room__name", "room__location", "room__kind",
    "procedure_type__code", "procedure_type__name", "procedure_type__family", "procedure_type__bleeding_risk",
    "procedure_type__sedation", "procedure_type__fasting_hours", "procedure_type__driver_required",
    "procedure_type__requires_order", "procedure_type__schedule_kind",
    "order__region", "order__status", "order__procedure_type", "order__patient",
]
# Visits whose time is still to come: a late hold or a missing confirmation still matters.
UPCOMING = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


@dataclass(frozen=True)
class Flag:
    code: str  # stable, for CSS and tests: not_confirmed, hold_too_late, needs_review, no_consent
    label: str


@dataclass
class Span:
    """A stretch of the day: `left` and `width` in percent of the board's span."""

    left: float
    width: float

    @property
    def right(self) -> float:
        return round(self.left + self.width, 3)


@dataclass
class BoardVisit:
    appointment: Appointment
    status: str
    status_label: str
    flags: list[Flag]
    arrival: dt.datetime  # local
    start: dt.datetime
    end: dt.datetime
    discharge: dt.datetime
    room_span: Span  # [room_start, room_end): setup, procedure, turnover
    setup_width: float  # percent of the room span (the block's own coordinates)
    procedure_width: float
    prep: Span  # [arrival, room_start): the patient is being prepared elsewhere
    recovery: Span  # [room_end, discharge)
    procedure_span: Span  # [procedure_start, procedure_end), the physician's lane
    label: str  # the whole visit in words: what a screen reader and the block's tooltip say
    block_status: str  # the status as the block writes it: in full, or short where the block is narrow
    arrival_hm: str  # the local times as the page writes them, "07:30"
    start_hm: str
    end_hm: str
    discharge_hm: str
    row: int = 0
    physician_row: int = 0
    earlier_outcomes: list[Outcome] = field(default_factory=list)  # filled where a page shows them

    @property
    def top(self) -> int:
        return self.row * ROW_HEIGHT

    @property
    def whiskers(self) -> tuple[int, int, int]:
        """Heights in the lane: of the preparation line, the block, the recovery line."""
        top = self.row * ROW_HEIGHT
        return top + 3, top + 7, top + 55

    @property
    def physician_top(self) -> int:
        """The block's top in a physician's lane, below its row's room name."""
        return self.physician_row * ROW_HEIGHT + 12

    @property
    def pk(self) -> int:
        return self.appointment.pk

    @property
    def is_cancelled(self) -> bool:
        return self.status == AppointmentStatus.CANCELLED


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
        return f"{self.start:%H:%M}"

    @property
    def label(self) -> str:
        return _("Book %(room)s at %(time)s with %(physician)s") % {
            "room": self.room.name, "time": f"{self.start:%H:%M}", "physician": self.physician.name}


@dataclass
class Band:
    """A physician's schedule block drawn behind their lane."""

    span: Span
    label: str


@dataclass
class Lane:
    key: str  # "room-3", "physician-2"
    title: str
    subtitle: str
    filter_param: str  # "room" or "physician"
    object_id: int
    visits: list[BoardVisit] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    rows: int = 1
    row_labels: list[tuple[int, str]] = field(default_factory=list)  # (top px, words): a physician's rooms

    @property
    def height(self) -> int:
        return self.rows * ROW_HEIGHT

    @property
    def row_tops(self) -> list[int]:
        return [row * ROW_HEIGHT for row in range(self.rows)]


@dataclass
class RecoveryCell:
    span: Span
    start: dt.datetime  # local
    end: dt.datetime
    count: int
    bar_height: int  # px of RECOVERY_HEIGHT
    bar_top: int
    over: bool

    @property
    def start_hm(self) -> str:
        return f"{self.start:%H:%M}"


@dataclass
class Tick:
    left: float
    label: str


@dataclass
class DayBoard:
    location: Location
    day: dt.date
    opens: dt.datetime  # local
    closes: dt.datetime
    ticks: list[Tick]
    hours: int  # how many hours the board spans (the page keeps an hour readable, scrolling if need be)
    room_lanes: list[Lane]
    physician_lanes: list[Lane]
    recovery: list[RecoveryCell]
    recovery_bays: int
    recovery_peak: int
    in_recovery_now: int  # patients the nurses have in recovery (by status), whatever the plan said
    visits: list[BoardVisit]  # shown (after the filters), in arrival order
    now_left: float | None
    is_today: bool
    rooms: list[Room]
    physicians: list[Physician]
    fingerprint: str  # `board_fingerprint` of the day: the script reloads the board when it changes

    recovery_height: int = RECOVERY_HEIGHT

    @property
    def recovery_busy(self) -> list[RecoveryCell]:
        return [cell for cell in self.recovery if cell.count]

    @property
    def under_way(self) -> dict[str, list[BoardVisit]]:
        """The nurse's columns: checked in, in procedure, in recovery."""
        columns: dict[str, list[BoardVisit]] = {status: [] for status in UNDER_WAY}
        for visit in self.visits:
            if visit.status in columns:
                columns[visit.status].append(visit)
        return columns

    @property
    def recovery_periods(self) -> list[tuple[dt.datetime, dt.datetime, int, bool]]:
        """The recovery lane in words: (from, until, bays in use, over capacity), busy stretches only."""
        periods: list[list] = []
        for cell in self.recovery:
            if periods and periods[-1][2] == cell.count and periods[-1][1] == cell.start:
                periods[-1][1] = cell.end
            else:
                periods.append([cell.start, cell.end, cell.count, cell.over])
        return [tuple(period) for period in periods if period[2]]

    def visit(self, pk: int) -> BoardVisit | None:
        return next((visit for visit in self.visits if visit.pk == pk), None)


class _Words:
    """The board's words, translated once per board rather than once per visit."""

    def __init__(self):
        self.not_confirmed = _("Not confirmed, less than 48 h before")
        self.hold_too_late = _("Blood-thinner hold too late: %(drugs)s")
        self.needs_review = _("Patient needs front-desk review")
        self.no_consent = _("No consent to contact")
        self.label = _("%(patient)s, %(code)s, %(physician)s, %(room)s, %(start)s to %(end)s (arrives %(arrival)s, "
                       "leaves %(discharge)s), %(status)s")
        self.statuses = {value: str(label) for value, label in AppointmentStatus.choices}
        self.short = {value: str(label) for value, label in STATUS_SHORT.items()}


def visit_flags(appointment: Appointment, *, now: dt.datetime, zone, words: _Words | None = None,
                hold_notices: dict[int, dict[str, dt.date]] | None = None) -> list[Flag]:
    """What the staff must look at for this visit, in words; `zone` is its location's.

    Uses the patient's prefetched blood thinners (`day_visits` prefetches them) and the day's
    hold messages (`hold_notice_days`, one query for the whole day): no query of its own.
    """
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        return []
    words = words or _Words()
    flags = []
    patient = appointment.patient
    if (appointment.status == AppointmentStatus.SCHEDULED and appointment.discharge > now
            and appointment.procedure_start - now <= CONFIRM_WITHIN):
        flags.append(Flag("not_confirmed", words.not_confirmed))
    if appointment.status in UPCOMING and patient.blood_thinners.all():
        told_on = hold_notices.get(appointment.pk, {}) if hold_notices is not None else None
        late = [hold.drug for hold in holds_told_too_late(appointment, told_on=told_on)]
        if late:
            flags.append(Flag("hold_too_late", words.hold_too_late % {"drugs": ", ".join(late)}))
    if patient.needs_review:
        flags.append(Flag("needs_review", words.needs_review))
    if patient.no_consent_to_contact:
        flags.append(Flag("no_consent", words.no_consent))
    return flags


class _Scale:
    """Instants to percentages of [opens, closes)."""

    def __init__(self, opens: dt.datetime, closes: dt.datetime):
        self.opens, self.seconds = opens, (closes - opens).total_seconds()

    def at(self, instant: dt.datetime) -> float:
        return min(max((instant - self.opens).total_seconds() / self.seconds * 100, 0.0), 100.0)

    def span(self, start: dt.datetime, end: dt.datetime) -> Span:
        left = self.at(start)
        return Span(round(left, 3), round(max(self.at(end) - left, 0.0), 3))


def _local_minutes(day: dt.date, minutes: int, zone) -> dt.datetime:
    """`minutes` after local midnight of `day` on the wall clock (24:00 is the next midnight)."""
    days, minutes = divmod(minutes, 24 * 60)
    return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(minutes // 60, minutes % 60)).replace(tzinfo=zone)


def _day_hours(day: dt.date, blocks: list[ScheduleBlock], visits: list[Appointment], zone) -> tuple[int, int]:
    """The board's span in local minutes: the earliest block to the latest, widened to every
    visit's arrival and discharge, in whole hours."""
    starts = [block.start_time.hour * 60 + block.start_time.minute for block in blocks]
    ends = [block.end_time.hour * 60 + block.end_time.minute for block in blocks]
    midnight = dt.datetime.combine(day, dt.time()).replace(tzinfo=zone)
    for visit in visits:
        # Elapsed minutes from local midnight are close enough to place the span's whole hours.
        starts.append(int((min(visit.arrival, visit.room_start) - midnight).total_seconds() // 60))
        ends.append(int((max(visit.discharge, visit.room_end) - midnight).total_seconds() // 60))
    if not starts:
        return DEFAULT_OPENS, DEFAULT_CLOSES
    opens = max(min(starts), 0) // 60 * 60
    closes = -(-min(max(ends), 48 * 60) // 60) * 60
    return opens, max(closes, opens + 60)


def _pack(items: list, key) -> int:
    """Give each item the first row where it overlaps nothing (greedy interval packing); the
    rows used. `key(item)` is the item's (start, end) and its row's attribute name."""
    row_ends: list[dt.datetime] = []
    for item in items:
        (start, end), attribute = key(item)
        for row, row_end in enumerate(row_ends):
            if row_end <= start:
                row_ends[row] = end
                setattr(item, attribute, row)
                break
        else:
            row_ends.append(end)
            setattr(item, attribute, len(row_ends) - 1)
    return max(len(row_ends), 1)


def _board_visit(appointment: Appointment, scale: _Scale, zone, now: dt.datetime, words: _Words,
                 hold_notices: dict[int, dict[str, dt.date]]) -> BoardVisit:
    room_seconds = (appointment.room_end - appointment.room_start).total_seconds() or 1
    status_label = words.statuses[appointment.status]
    flags = visit_flags(appointment, now=now, zone=zone, words=words, hold_notices=hold_notices)
    local = {name: getattr(appointment, name).astimezone(zone)
             for name in ("arrival", "procedure_start", "procedure_end", "discharge")}
    hm = {name: f"{instant:%H:%M}" for name, instant in local.items()}
    label = words.label % {
        "patient": appointment.patient.full_name, "code": appointment.procedure_type.code,
        "physician": appointment.physician.name, "room": appointment.room.name,
        "start": hm["procedure_start"], "end": hm["procedure_end"], "arrival": hm["arrival"],
        "discharge": hm["discharge"], "status": status_label,
    }
    if flags:
        label += ". " + ". ".join(flag.label for flag in flags)
    return BoardVisit(
        appointment=appointment,
        status=appointment.status,
        status_label=status_label,
        flags=flags,
        arrival=local["arrival"],
        start=local["procedure_start"],
        end=local["procedure_end"],
        discharge=local["discharge"],
        room_span=scale.span(appointment.room_start, appointment.room_end),
        setup_width=round((appointment.procedure_start - appointment.room_start).total_seconds() / room_seconds * 100, 3),
        procedure_width=round(
            (appointment.procedure_end - appointment.procedure_start).total_seconds() / room_seconds * 100, 3),
        prep=scale.span(appointment.arrival, appointment.room_start),
        recovery=scale.span(appointment.room_end, appointment.discharge),
        procedure_span=scale.span(appointment.procedure_start, appointment.procedure_end),
        label=label,
        block_status=words.short[appointment.status] if room_seconds < COMPACT_MINUTES * 60 else status_label,
        arrival_hm=hm["arrival"], start_hm=hm["procedure_start"], end_hm=hm["procedure_end"],
        discharge_hm=hm["discharge"],
    )


def _bay_span(visit: Appointment, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When the visit holds a recovery bay: as planned, [procedure end, discharge), except that a
    patient the nurse has already taken to recovery holds one from now if that is earlier."""
    if visit.status == AppointmentStatus.IN_RECOVERY and now < visit.procedure_end:
        return now, visit.discharge
    return visit.procedure_end, visit.discharge


def _recovery_cells(visits: list[Appointment], scale: _Scale, opens: dt.datetime, closes: dt.datetime,
                    step_minutes: int, bays: int, zone, now: dt.datetime) -> list[RecoveryCell]:
    """Bays in use per step: the most patients in recovery at once within each step."""
    spans = [span for span in (_bay_span(visit, now) for visit in visits) if span[1] > span[0]]
    events = sorted(
        [(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans],
        key=lambda event: (event[0], event[1]),  # a bay freed at 10:00 is free for one taken at 10:00
    )
    cells, in_recovery, index, step = [], 0, 0, dt.timedelta(minutes=step_minutes)
    cell_start = opens
    while cell_start < closes:
        cell_end = min(cell_start + step, closes)
        while index < len(events) and events[index][0] <= cell_start:
            in_recovery += events[index][1]
            index += 1
        peak = in_recovery
        while index < len(events) and events[index][0] < cell_end:
            in_recovery += events[index][1]
            peak = max(peak, in_recovery)
            index += 1
        height = round(RECOVERY_HEIGHT * min(peak, max(bays, 1)) / max(bays, 1)) if peak else 0
        cells.append(RecoveryCell(span=scale.span(cell_start, cell_end), start=cell_start.astimezone(zone),
                                  end=cell_end.astimezone(zone), count=peak,
                                  bar_height=height, bar_top=RECOVERY_HEIGHT - height, over=peak > bays))
        cell_start = cell_end
    return cells


def _representative_types(rooms: list[Room], blocks: list[ScheduleBlock]) -> dict[int, ProcedureType]:
    """For each room, the procedure type its free stretches are offered for: of the active
    types the room can host and that a physician working that day (`blocks`) does in such a
    block, the self-bookable first, then the shortest. Types that book a follow-up visit are left
    out (their offer depends on another day)."""
    types = list(
        ProcedureType.objects.filter(
            is_active=True, follow_up_type__isnull=True, physicians__is_active=True,
            physicians__schedule_blocks__in=[block.pk for block in blocks],
            physicians__schedule_blocks__kind=F("schedule_kind"),
        ).distinct().prefetch_related("required_capabilities", "alternative_capabilities")
    )
    types.sort(key=lambda procedure_type: (not procedure_type.self_bookable, procedure_type.total_minutes,
                                           procedure_type.code))
    capabilities = {room.pk: {capability.pk for capability in room.capabilities.all()} for room in rooms}
    chosen: dict[int, ProcedureType] = {}
    for procedure_type in types:
        for room_id in capable_room_ids(procedure_type, capabilities):
            chosen.setdefault(room_id, procedure_type)
    return chosen


def _gaps(lane: Lane, opens: dt.datetime, closes: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The room's free stretches within the board's span."""
    busy = sorted((visit.appointment.room_start, visit.appointment.room_end) for visit in lane.visits
                  if visit.appointment.status in HOLDING_STATUSES)
    gaps, free_from = [], opens
    for start, end in busy:
        if start > free_from:
            gaps.append((free_from, start))
        free_from = max(free_from, end)
    if free_from < closes:
        gaps.append((free_from, closes))
    return gaps


def _offers(*, location: Location, day: dt.date, now: dt.datetime, lanes: list[Lane], rooms: list[Room],
            blocks: list[ScheduleBlock], scale: _Scale, opens: dt.datetime, closes: dt.datetime,
            physician: Physician | None, known_physicians: dict[int, Physician]) -> None:
    """Fill each room lane's offers: in each free stretch, the first start the engine offers there.

    One availability load per representative procedure type (not per room or gap); the engine
    then runs on that plain data for each stretch long enough, one room at a time (the engine
    gives a start the first free room; asked one room at a time, it says what each could take).
    """
    representative = _representative_types([room for room in rooms if room.is_active], blocks)
    requests: dict[int, engine.Request] = {}
    for procedure_type in {procedure_type.pk: procedure_type for procedure_type in representative.values()}.values():
        requests[procedure_type.pk] = availability_request(
            procedure_type=procedure_type, location=location, first_day=day, last_day=day, now=now,
            physician=physician, apply_minimum_notice=False)
    physicians = dict(known_physicians)
    rooms_by_id = {room.pk: room for room in rooms}
    for lane in lanes:
        procedure_type = representative.get(lane.object_id)
        if procedure_type is None:
            continue
        request = requests[procedure_type.pk]
        room_input = next((room for room in request.rooms if room.id == lane.object_id), None)
        if room_input is None:
            continue
        setup = dt.timedelta(minutes=procedure_type.setup_minutes)
        turnover = dt.timedelta(minutes=procedure_type.turnover_minutes)
        prep = dt.timedelta(minutes=procedure_type.prep_minutes)
        room_time = setup + dt.timedelta(minutes=procedure_type.procedure_minutes) + turnover
        for gap_start, gap_end in _gaps(lane, opens, closes):
            if gap_end - gap_start < room_time:
                continue
            earliest = max(request.earliest, gap_start + setup - prep) if request.earliest else gap_start + setup - prep
            latest = min(request.latest, gap_end) if request.latest else gap_end
            found = engine.find_slots(dataclasses.replace(request, rooms=[room_input], earliest=earliest,
                                                          latest=latest, limit=1))
            slot = next((slot for slot in found if slot.end + turnover <= gap_end), None)
            if slot is None:
                continue
            if slot.physician_id not in physicians:  # known from the day's blocks; looked up only if not
                physicians[slot.physician_id] = Physician.objects.select_related("user").get(pk=slot.physician_id)
            room_from = slot.start - setup
            drawn_until = min(gap_end, max(slot.end + turnover, room_from + dt.timedelta(minutes=OFFER_MINUTES)))
            lane.offers.append(Offer(
                span=scale.span(room_from, drawn_until), start=slot.start.astimezone(location.zone),
                physician=physicians[slot.physician_id], room=rooms_by_id[lane.object_id],
                slot_value=f"{slot.start.isoformat()}|{slot.physician_id}|{slot.room_id}",
            ))


def _cached_offers(*, location: Location, day: dt.date, now: dt.datetime, lanes: list[Lane], fingerprint: str,
                   physician: Physician | None, room: Room | None, known_physicians: dict[int, Physician],
                   **arguments) -> None:
    """`_offers`, kept for a minute under the day's fingerprint: every board open on the day
    asks again when anything changes, and most of a board's time is finding these. A booking,
    cancellation or status change makes a new fingerprint; what it cannot see (a patient holding
    a time on the booking pages, a physician's time off) is at most a minute old, and the
    booking form checks the time again anyway."""
    key = "board-offers:" + ":".join(str(part) for part in (
        location.pk, day.isoformat(), physician.pk if physician else "-", room.pk if room else "-", fingerprint,
        int(now.timestamp()) // OFFERS_SECONDS))
    cached = cache.get(key)
    if cached is None:
        _offers(location=location, day=day, now=now, lanes=lanes, physician=physician,
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


def day_board(*, location: Location, day: dt.date, now: dt.datetime, physician: Physician | None = None,
              room: Room | None = None, include_cancelled: bool = False, offer_times: bool = True) -> DayBoard:
    """A location's day as the board draws it. `physician` and `room` narrow what is shown;
    the recovery lane always counts every patient at the location (the bays are shared)."""
    zone = location.zone
    rooms = list(Room.objects.filter(location=location).prefetch_related("capabilities").order_by("name"))
    blocks = list(
        ScheduleBlock.objects.filter(location=location, weekday=day.weekday(), valid_from__lte=day,
                                     physician__is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .select_related("physician__user")
        .order_by("start_time")
    )
    appointments = list(
        day_visits(location=location, day=day, include_cancelled=include_cancelled)
        # The board draws 150 visits from the same columns every 30 seconds: only those columns
        # (a selected visit's panel may read one more of its own, once), and no pre-procedure
        # checks, which only the selected visit's actions need.
        .only(*BOARD_COLUMNS)
        .prefetch_related(None).prefetch_related("patient__blood_thinners")
    )
    opens_minutes, closes_minutes = _day_hours(day, blocks, appointments, zone)
    opens, closes = _local_minutes(day, opens_minutes, zone), _local_minutes(day, closes_minutes, zone)
    scale = _Scale(opens, closes)
    ticks = [Tick(round(scale.at(_local_minutes(day, minutes, zone)), 3), f"{minutes // 60 % 24:02d}:00")
             for minutes in range(opens_minutes, closes_minutes, 60)]

    recovery = _recovery_cells([a for a in appointments if a.status in HOLDING_STATUSES], scale, opens, closes,
                               location.slot_interval_minutes or 15, location.recovery_bays, zone, now)
    shown = [a for a in appointments
             if (physician is None or a.physician_id == physician.pk) and (room is None or a.room_id == room.pk)]
    words = _Words()
    hold_notices = hold_notice_days([a for a in shown if a.patient.blood_thinners.all()])
    visits = [_board_visit(appointment, scale, zone, now, words, hold_notices) for appointment in shown]

    room_ids_with_visits = {visit.appointment.room_id for visit in visits}
    room_lanes = []
    for each in rooms:
        if room is not None and each.pk != room.pk:
            continue
        if not each.is_active and each.pk not in room_ids_with_visits:
            continue
        capabilities = ", ".join(capability.name for capability in each.capabilities.all())
        lane = Lane(key=f"room-{each.pk}", title=each.name, subtitle=capabilities or each.get_kind_display(),
                    filter_param="room", object_id=each.pk,
                    visits=[visit for visit in visits if visit.appointment.room_id == each.pk])
        # Cancelled visits (shown on request) may overlap the visit that took their time.
        lane.rows = _pack(sorted(lane.visits, key=lambda v: (v.is_cancelled, v.appointment.room_start)),
                          lambda v: ((v.appointment.room_start, v.appointment.room_end), "row"))
        room_lanes.append(lane)

    physicians: dict[int, Physician] = {}
    for block in blocks:
        physicians.setdefault(block.physician_id, block.physician)
    for visit in visits:
        physicians.setdefault(visit.appointment.physician_id, visit.appointment.physician)
    physician_lanes = []
    for each in sorted(physicians.values(), key=lambda p: (p.user.last_name, p.user.first_name, p.pk)):
        if physician is not None and each.pk != physician.pk:
            continue
        lane = Lane(key=f"physician-{each.pk}", title=each.name, subtitle="", filter_param="physician",
                    object_id=each.pk,
                    visits=[visit for visit in visits if visit.appointment.physician_id == each.pk])
        for block in blocks:
            if block.physician_id == each.pk:
                lane.bands.append(Band(
                    span=scale.span(_local_minutes(day, block.start_time.hour * 60 + block.start_time.minute, zone),
                                    _local_minutes(day, block.end_time.hour * 60 + block.end_time.minute, zone)),
                    label=_("%(kind)s %(start)s-%(end)s") % {"kind": block.get_kind_display(),
                                                            "start": f"{block.start_time:%H:%M}",
                                                            "end": f"{block.end_time:%H:%M}"}))
        lane.subtitle = ", ".join(band.label for band in lane.bands) or _("No schedule block")
        # One row per room the physician works in, so that flipping between rooms shows as a
        # zig-zag; visits that overlap within a room (a cancelled one, shown on request) get more.
        row = 0
        for room_id in sorted({v.appointment.room_id for v in lane.visits},
                              key=lambda pk: next(r.name for r in rooms if r.pk == pk)):
            in_room = [v for v in lane.visits if v.appointment.room_id == room_id]
            used = _pack(sorted(in_room, key=lambda v: (v.is_cancelled, v.appointment.procedure_start)),
                         lambda v: ((v.appointment.procedure_start, v.appointment.procedure_end), "physician_row"))
            for visit in in_room:
                visit.physician_row += row
            lane.row_labels.append((row * ROW_HEIGHT + 10, in_room[0].appointment.room.name))
            row += used
        lane.rows = max(row, 1)
        physician_lanes.append(lane)

    today = now.astimezone(zone).date()
    fingerprint = board_fingerprint(location=location, day=day)
    if offer_times and day >= today and room_lanes:
        _cached_offers(location=location, day=day, now=now, lanes=room_lanes, fingerprint=fingerprint,
                       physician=physician, room=room, known_physicians=physicians, rooms=rooms,
                       blocks=blocks, scale=scale, opens=opens, closes=closes)

    return DayBoard(
        location=location, day=day, opens=opens, closes=closes, ticks=ticks,
        hours=min((closes_minutes - opens_minutes) // 60, 24), room_lanes=room_lanes,
        physician_lanes=physician_lanes, recovery=recovery, recovery_bays=location.recovery_bays,
        recovery_peak=max((cell.count for cell in recovery), default=0), visits=visits,
        in_recovery_now=sum(1 for a in appointments if a.status == AppointmentStatus.IN_RECOVERY),
        now_left=round(scale.at(now), 3) if day == today and opens <= now < closes else None,
        is_today=day == today, rooms=rooms, physicians=list(physicians.values()), fingerprint=fingerprint,
    )


def board_fingerprint(*, location: Location, day: dt.date) -> str:
    """What changes whenever a visit of the day is booked, moved, cancelled or moves on: the
    board reloads only when this does. One aggregate query: the latest change, and how many
    visits are in each status (two changes within the clock's resolution still show)."""
    start, end = window_bounds(location, day, day)
    figures = Appointment.objects.filter(location=location, procedure_start__gte=start, procedure_start__lt=end) \
        .aggregate(latest=Max("updated_at"), **{status: Count("pk", filter=Q(status=status))
                                                 for status in AppointmentStatus.values})
    latest = figures.pop("latest")
    counts = ",".join(str(figures[status]) for status in AppointmentStatus.values)
    return f"{latest.isoformat() if latest else '-'}/{counts}"


def earlier_outcomes(*, patient_ids, before: dt.datetime) -> dict[int, list[Outcome]]:
    """The recorded outcomes of each patient's completed visits before `before`, latest first.
    One query for a whole day's patients."""
    outcomes: dict[int, list[Outcome]] = defaultdict(list)
    for outcome in (
        Outcome.objects.filter(appointment__patient_id__in=set(patient_ids),
                               appointment__status=AppointmentStatus.COMPLETED,
                               appointment__procedure_start__lt=before)
        .select_related("appointment__procedure_type", "appointment__order")
        .order_by("-appointment__procedure_start")
    ):
        outcomes[outcome.appointment.patient_id].append(outcome)
    return outcomes
