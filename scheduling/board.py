"""The day board's data: a location's day as lanes of positioned segments, computed here.

`day_board` reads a location's day in a fixed number of queries, however many visits it has:
rooms, the day's schedule blocks, the visits as plain values in one query (`day_rows`), the
patients' blood thinners in one, the day's hold messages in one, and the "book here" times
(`scheduling.board_offers`). Positions are percentages of the day's span, worked out from the
stored instants, so the page only draws. No model object is built per visit: a busy day's 150
visits as whole rows (visit, patient, physician, room, procedure, order) were most of the board's
time. The visit the user opens is read whole, on its own (`selected_visit`).

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
from django.utils.translation import gettext_lazy

from clinic.models import Location, Patient, Physician, Room, ScheduleBlock
from scheduling.board_geometry import Scale, Span, local_minutes
from scheduling.board_offers import Offer, cached_offers
from scheduling.models import HOLDING_STATUSES, Appointment, AppointmentStatus, Outcome
from scheduling.pathways.holds import drug_holds, hold_notice_days, hold_notice_days_by_id, holds_too_late
from scheduling.selectors import day_visits, window_bounds

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
# A block's names and codes are cut to fit it at its narrowest (an hour is at least 6.5rem, 104 px,
# wide: board.css), initials where not even a short name fits (a 20-minute visit); the whole visit
# is in the block's tooltip, its accessible name and the list.
HOUR_PX, CHAR_PX = 104, 7.0  # the narrowest hour, and an 11 px character (bold or wide), about
# What the board reads of each of a day's visits, as plain values in one query.
ROW_COLUMNS = [
    "pk", "status", "arrival", "procedure_start", "procedure_end", "discharge", "room_start", "room_end",
    "created_at", "updated_at", "patient_id", "physician_id", "room_id",
    "patient__first_name", "patient__last_name", "patient__needs_review", "patient__phone", "patient__email",
    "patient__sms_consent", "patient__email_consent",
    "procedure_type__code", "procedure_type__name", "procedure_type__bleeding_risk", "procedure_type__requires_order",
]
# Visits whose time is still to come: a late hold or a missing confirmation still matters.
UPCOMING = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
__all__ = ["Offer", "Span"]  # drawn from here by the board's pages


@dataclass(frozen=True)
class Flag:
    code: str  # stable, for CSS and tests: not_confirmed, hold_too_late, needs_review, no_consent
    label: str


@dataclass
class BoardVisit:
    """A visit as the board draws it: its plain values, where it sits, and its words."""

    pk: int
    status: str
    status_label: str
    flags: list[Flag]
    arrival: dt.datetime  # local
    start: dt.datetime
    end: dt.datetime
    discharge: dt.datetime
    room_start: dt.datetime  # the room's time, setup to turnover
    room_end: dt.datetime
    patient_id: int
    patient_name: str  # "Ada Lovelace"
    patient_first_name: str
    patient_last_name: str
    code: str  # the procedure's
    procedure_name: str
    requires_order: bool
    physician_id: int
    physician_name: str  # "Dr. Ada Okafor"
    physician_last_name: str
    room_id: int
    room_name: str
    room_span: Span  # [room_start, room_end): setup, procedure, turnover
    setup_width: float  # percent of the room span (the block's own coordinates)
    procedure_width: float
    prep: Span  # [arrival, room_start): the patient is being prepared elsewhere
    recovery: Span  # [room_end, discharge)
    procedure_span: Span  # [procedure_start, procedure_end), the physician's lane
    label: str  # the whole visit in words: what a screen reader and the block's tooltip say
    block_status: str  # the status as the block writes it: in full, or short where the block is narrow
    room_words: tuple[str, str, str]  # the room lane's block's lines: who, what, status (cut to fit)
    procedure_words: tuple[str, str, str]  # the physician lane's block's lines
    arrival_hm: str  # the local times as the page writes them, "07:30"
    start_hm: str
    end_hm: str
    discharge_hm: str
    row: int = 0
    physician_row: int = 0
    earlier_outcomes: list[Outcome] = field(default_factory=list)  # filled where a page shows them
    appointment: Appointment | None = None  # the whole visit, read for the one the user opened

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
    def is_cancelled(self) -> bool:
        return self.status == AppointmentStatus.CANCELLED

    @property
    def holding(self) -> bool:
        """The visit holds its room's time (not cancelled nor missed)."""
        return self.status in HOLDING_STATUSES


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
    patient = appointment.patient
    drugs = patient.blood_thinners.all()
    told_on = None
    if hold_notices is not None:
        told_on = hold_notices.get(appointment.pk, {})
    elif appointment.status in UPCOMING and drugs:
        told_on = hold_notice_days([appointment]).get(appointment.pk, {})
    return _flags(status=appointment.status, procedure_start=appointment.procedure_start,
                  discharge=appointment.discharge, created_at=appointment.created_at, drugs=drugs,
                  bleeding_risk=appointment.procedure_type.bleeding_risk, told_on=told_on or {},
                  needs_review=patient.needs_review, no_consent=patient.no_consent_to_contact,
                  now=now, zone=zone, words=words or _Words())


def _flags(*, status: str, procedure_start: dt.datetime, discharge: dt.datetime, created_at: dt.datetime, drugs,
           bleeding_risk: str, told_on: dict[str, dt.date], needs_review: bool, no_consent: bool,
           now: dt.datetime, zone, words: _Words) -> list[Flag]:
    """The flags' rule, on a visit's plain values: the board's rows and the desk's visits alike."""
    if status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        return []
    flags = []
    if status == AppointmentStatus.SCHEDULED and discharge > now and procedure_start - now <= CONFIRM_WITHIN:
        flags.append(Flag("not_confirmed", words.not_confirmed))
    if status in UPCOMING and drugs:
        # `holds_told_too_late`'s rule, on the day's drugs and hold messages read once for all.
        holds = drug_holds(drugs, bleeding_risk=bleeding_risk, procedure_day=procedure_start.astimezone(zone).date())
        late = [hold.drug for hold in holds_too_late(holds, told_on=told_on,
                                                     booked_on=created_at.astimezone(zone).date())]
        if late:
            flags.append(Flag("hold_too_late", words.hold_too_late % {"drugs": ", ".join(late)}))
    if needs_review:
        flags.append(Flag("needs_review", words.needs_review))
    if no_consent:
        flags.append(Flag("no_consent", words.no_consent))
    return flags


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


def _fit(text: str, chars: int) -> str:
    """`text`, cut to `chars` characters with an ellipsis if longer."""
    return text if len(text) <= chars else text[:max(chars - 1, 1)] + "…"


def _block_words(minutes: float, *, first: str, last: str, code: str, what: str, status: str, short: str,
                 flagged: bool) -> tuple[str, str, str]:
    """A block's three lines as they fit a block of `minutes` at its narrowest."""
    chars = max(int((minutes * HOUR_PX / 60 - 4) / CHAR_PX), 2)
    name_chars = chars - 1 if flagged else chars
    who = next((words for words in (f"{last}, {first[:1]}.", last) if len(words) <= name_chars), None)
    if who is None:
        who = _fit(last, name_chars) if name_chars >= 5 else f"{first[:1]}{last[:1]}"
    return who, _fit(what if len(what) <= chars else code, chars), status if len(status) <= chars else short


def _board_visit(row, scale: Scale, zone, now: dt.datetime, words: _Words, physicians: dict[int, Physician],
                 room_names: dict[int, str], drugs: dict[int, list], hold_notices: dict[int, dict[str, dt.date]]
                 ) -> BoardVisit:
    """A row of `day_rows` as the board draws it."""
    room_seconds = (row.room_end - row.room_start).total_seconds() or 1
    status_label = words.statuses[row.status]
    flags = _flags(
        status=row.status, procedure_start=row.procedure_start, discharge=row.discharge, created_at=row.created_at,
        drugs=drugs.get(row.patient_id, ()), bleeding_risk=row.procedure_type__bleeding_risk,
        told_on=hold_notices.get(row.pk, {}), needs_review=row.patient__needs_review,
        no_consent=not Patient.channels_consented(sms_consent=row.patient__sms_consent, phone=row.patient__phone,
                                                  email_consent=row.patient__email_consent, email=row.patient__email),
        now=now, zone=zone, words=words)
    arrival, start = row.arrival.astimezone(zone), row.procedure_start.astimezone(zone)
    end, discharge = row.procedure_end.astimezone(zone), row.discharge.astimezone(zone)
    hm = {"arrival": f"{arrival:%H:%M}", "start": f"{start:%H:%M}", "end": f"{end:%H:%M}",
          "discharge": f"{discharge:%H:%M}"}
    physician = physicians[row.physician_id]
    patient_name = f"{row.patient__first_name} {row.patient__last_name}"  # as Patient.full_name
    room_name = room_names[row.room_id]
    label = words.label % {
        "patient": patient_name, "code": row.procedure_type__code, "physician": physician.name,
        "room": room_name, **hm, "status": status_label,
    }
    if flags:
        label += ". " + ". ".join(flag.label for flag in flags)
    physician_last_name = physician.user.last_name if physician.user_id else ""
    block_status = words.short[row.status] if room_seconds < COMPACT_MINUTES * 60 else status_label
    names = dict(first=row.patient__first_name, last=row.patient__last_name, code=row.procedure_type__code,
                 short=words.short[row.status], flagged=bool(flags))
    return BoardVisit(
        pk=row.pk,
        status=row.status,
        status_label=status_label,
        flags=flags,
        arrival=arrival,
        start=start,
        end=end,
        discharge=discharge,
        room_start=row.room_start,
        room_end=row.room_end,
        patient_id=row.patient_id,
        patient_name=patient_name,
        patient_first_name=row.patient__first_name,
        patient_last_name=row.patient__last_name,
        code=row.procedure_type__code,
        procedure_name=row.procedure_type__name,
        requires_order=row.procedure_type__requires_order,
        physician_id=row.physician_id,
        physician_name=physician.name,
        physician_last_name=physician_last_name,
        room_id=row.room_id,
        room_name=room_name,
        room_span=scale.span(row.room_start, row.room_end),
        setup_width=round((row.procedure_start - row.room_start).total_seconds() / room_seconds * 100, 3),
        procedure_width=round((row.procedure_end - row.procedure_start).total_seconds() / room_seconds * 100, 3),
        prep=scale.span(row.arrival, row.room_start),
        recovery=scale.span(row.room_end, row.discharge),
        procedure_span=scale.span(row.procedure_start, row.procedure_end),
        label=label,
        block_status=block_status,
        room_words=_block_words(room_seconds / 60, what=f"{row.procedure_type__code} · {physician_last_name}",
                                status=block_status, **names),
        procedure_words=_block_words((row.procedure_end - row.procedure_start).total_seconds() / 60,
                                     what=row.procedure_type__code, status=block_status, **names),
        arrival_hm=hm["arrival"], start_hm=hm["start"], end_hm=hm["end"], discharge_hm=hm["discharge"],
    )


def day_rows(*, location: Location, day: dt.date, include_cancelled: bool = False) -> list:
    """A location's day of visits (`selectors.day_visits`) as plain values (`ROW_COLUMNS`), in
    arrival order: one query, no model object per visit."""
    return list(day_visits(location=location, day=day, include_cancelled=include_cancelled)
                .select_related(None).prefetch_related(None).values_list(*ROW_COLUMNS, named=True))


def patients_drugs(patient_ids) -> dict[int, list]:
    """Each patient's blood thinners (BloodThinner rows), in one query for all of them."""
    drugs: dict[int, list] = defaultdict(list)
    for link in Patient.blood_thinners.through.objects.filter(patient_id__in=set(patient_ids)).select_related(
            "bloodthinner").order_by("pk"):
        drugs[link.patient_id].append(link.bloodthinner)
    return drugs


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
    blocks = list(
        ScheduleBlock.objects.filter(location=location, weekday=day.weekday(), valid_from__lte=day,
                                     physician__is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .select_related("physician__user")
        .order_by("start_time")
    )
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
    hold_notices = hold_notice_days_by_id({a.pk: zone for a in shown if a.status in UPCOMING and drugs.get(a.patient_id)})
    words = _Words()
    room_names = {each.pk: each.name for each in rooms}
    visits = [_board_visit(row, scale, zone, now, words, physicians, room_names, drugs, hold_notices)
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
