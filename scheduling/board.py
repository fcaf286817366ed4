"""The day board's data: a location's day as lanes of positioned segments, computed here.

`day_board` reads a location's day in a fixed number of queries, however many visits it has:
rooms, the visits as plain values in one query (`day_rows`), the patients' blood thinners in
one, the day's hold messages in one, and the "book here" times (`scheduling.board_offers`); the
day's schedule blocks come from the catalog held in memory. Positions are percentages of the
day's span, worked out from the stored instants, so the page only draws. No model object is
built per visit: a busy day's 150 visits as whole rows (visit, patient, physician, room,
procedure, order) were most of the board's time. The visit the user opens is read whole, on
its own (`selected_visit`).

`board_fingerprint` is the cheap question the board asks every 30 seconds ("did anything
change?"); `earlier_outcomes` gives a physician's day the patients' earlier procedures and
their relief in one query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from clinic.models import Location, Physician, Room, ScheduleBlock
from scheduling.board_geometry import Scale, Span, hm, local_minutes
from scheduling.board_offers import Offer, cached_offers
from scheduling.board_visits import (ROW_HEIGHT, STATUS_SHORT, BoardVisit, Flag, Words, board_visit, day_rows,
                                     patients_drugs, visit_flags)
from scheduling.models import BOOKED_STATUSES, HOLDING_STATUSES, Appointment, AppointmentStatus, Outcome
from scheduling.pathways.holds import hold_notice_days_by_id
from scheduling.selectors import day_blocks, day_visits, window_bounds

# When nobody works that day, the board still shows a working day.
DEFAULT_OPENS, DEFAULT_CLOSES = 7 * 60, 18 * 60
RECOVERY_HEIGHT = 56
# Statuses of visits under way, the nurse's view: checked in, in procedure, in recovery.
UNDER_WAY = (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROCEDURE, AppointmentStatus.IN_RECOVERY)
# Drawn from here by the board's pages.
__all__ = ["STATUS_SHORT", "BoardVisit", "Flag", "Offer", "Span", "visit_flags"]


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
        return hm(self.start)


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


def _day_hours(day: dt.date, blocks: list[ScheduleBlock], visits: list, zone) -> tuple[int, int]:
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


def selected_visit(board: DayBoard, pk: int) -> BoardVisit | None:
    """The board's visit `pk`, with the whole visit read (its panel and actions need it), or None."""
    visit = board.visit(pk)
    if visit is not None and visit.appointment is None:
        visit.appointment = day_visits(location=board.location, day=board.day, include_cancelled=True) \
            .filter(pk=pk).first()
    return visit


def _bay_span(visit, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When the visit holds a recovery bay: as planned, [procedure end, discharge), except that a
    patient the nurse has already taken to recovery holds one from now if that is earlier."""
    if visit.status == AppointmentStatus.IN_RECOVERY and now < visit.procedure_end:
        return now, visit.discharge
    return visit.procedure_end, visit.discharge


def _recovery_cells(visits: list, scale: Scale, opens: dt.datetime, closes: dt.datetime,
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


def day_board(*, location: Location, day: dt.date, now: dt.datetime, physician: Physician | None = None,
              room: Room | None = None, include_cancelled: bool = False, offer_times: bool = True) -> DayBoard:
    """A location's day as the board draws it. `physician` and `room` narrow what is shown;
    the recovery lane always counts every patient at the location (the bays are shared)."""
    zone = location.zone
    rooms = list(Room.objects.filter(location=location).prefetch_related("capabilities").order_by("name"))
    blocks = day_blocks(location=location, day=day)
    every = day_rows(location=location, day=day, include_cancelled=True)
    fingerprint = _fingerprint(max((a.updated_at for a in every), default=None),
                               {status: sum(1 for a in every if a.status == status) for status in AppointmentStatus.values})
    appointments = every if include_cancelled else [a for a in every if a.status != AppointmentStatus.CANCELLED]
    opens_minutes, closes_minutes = _day_hours(day, blocks, appointments, zone)
    opens, closes = local_minutes(day, opens_minutes, zone), local_minutes(day, closes_minutes, zone)
    scale = Scale(opens, closes)
    ticks = [Tick(round(scale.at(local_minutes(day, minutes, zone)), 3), f"{minutes // 60 % 24:02d}:00")
             for minutes in range(opens_minutes, closes_minutes, 60)]

    recovery = _recovery_cells([a for a in appointments if a.status in HOLDING_STATUSES], scale, opens, closes,
                               location.slot_interval_minutes or 15, location.recovery_bays, zone, now)
    shown = [a for a in appointments
             if (physician is None or a.physician_id == physician.pk) and (room is None or a.room_id == room.pk)]
    physicians: dict[int, Physician] = {}
    for block in blocks:
        physicians.setdefault(block.physician_id, block.physician)
    missing = {a.physician_id for a in shown} - set(physicians)
    if missing:  # a visit of a physician who has no block that day (moved, or the block changed)
        physicians.update(Physician.objects.select_related("user").in_bulk(missing))
    drugs = patients_drugs(a.patient_id for a in shown)
    hold_notices = hold_notice_days_by_id({a.pk: zone for a in shown
                                           if a.status in BOOKED_STATUSES and drugs.get(a.patient_id)})
    words = Words()
    room_names = {each.pk: each.name for each in rooms}
    visits = [board_visit(row, scale, zone, now, words, physicians, room_names, drugs, hold_notices)
              for row in shown]

    room_ids_with_visits = {visit.room_id for visit in visits}
    room_lanes = []
    for each in rooms:
        if room is not None and each.pk != room.pk:
            continue
        if not each.is_active and each.pk not in room_ids_with_visits:
            continue
        capabilities = ", ".join(capability.name for capability in each.capabilities.all())
        lane = Lane(key=f"room-{each.pk}", title=each.name, subtitle=capabilities or each.get_kind_display(),
                    filter_param="room", object_id=each.pk,
                    visits=[visit for visit in visits if visit.room_id == each.pk])
        # Cancelled visits (shown on request) may overlap the visit that took their time.
        lane.rows = _pack(sorted(lane.visits, key=lambda v: (v.is_cancelled, v.room_start)),
                          lambda v: ((v.room_start, v.room_end), "row"))
        room_lanes.append(lane)

    physician_lanes = []
    for each in sorted(physicians.values(), key=lambda p: (p.user.last_name, p.user.first_name, p.pk)):
        if physician is not None and each.pk != physician.pk:
            continue
        lane = Lane(key=f"physician-{each.pk}", title=each.name, subtitle="", filter_param="physician",
                    object_id=each.pk,
                    visits=[visit for visit in visits if visit.physician_id == each.pk])
        for block in blocks:
            if block.physician_id == each.pk:
                lane.bands.append(Band(
                    span=scale.span(local_minutes(day, block.start_time.hour * 60 + block.start_time.minute, zone),
                                    local_minutes(day, block.end_time.hour * 60 + block.end_time.minute, zone)),
                    label=_("%(kind)s %(start)s-%(end)s") % {"kind": block.get_kind_display(),
                                                            "start": f"{block.start_time:%H:%M}",
                                                            "end": f"{block.end_time:%H:%M}"}))
        lane.subtitle = ", ".join(band.label for band in lane.bands) or _("No schedule block")
        # One row per room the physician works in, so that flipping between rooms shows as a
        # zig-zag; visits that overlap within a room (a cancelled one, shown on request) get more.
        row = 0
        for room_id in sorted({v.room_id for v in lane.visits}, key=lambda pk: room_names[pk]):
            in_room = [v for v in lane.visits if v.room_id == room_id]
            used = _pack(sorted(in_room, key=lambda v: (v.is_cancelled, v.start)),
                         lambda v: ((v.start, v.end), "physician_row"))
            for visit in in_room:
                visit.physician_row += row
            lane.row_labels.append((row * ROW_HEIGHT + 10, room_names[room_id]))
            row += used
        lane.rows = max(row, 1)
        physician_lanes.append(lane)

    today = now.astimezone(zone).date()
    if offer_times and day >= today and room_lanes:
        cached_offers(location=location, day=day, now=now, lanes=room_lanes, fingerprint=fingerprint,
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
    return _fingerprint(latest, figures)


def _fingerprint(latest: dt.datetime | None, counts: dict[str, int]) -> str:
    """The fingerprint's words: the latest change, and how many visits are in each status. The
    board draws it from the day's rows it reads anyway; `board_fingerprint` asks the database."""
    return f"{latest.isoformat() if latest else '-'}/{','.join(str(counts[status]) for status in AppointmentStatus.values)}"


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
