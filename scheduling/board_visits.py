"""A day's visits as the board draws them: read as plain values, flagged, put into words.

`day_rows` reads a location's day of visits in one query, as plain values (a busy day's 150
visits as whole rows, with their patients, physicians, rooms and procedures, were most of the
board's time); `patients_drugs` reads the patients' blood thinners in one more; `board_visit`
turns a row into what the board draws. `visit_flags` is the flags' rule for a whole visit (the
arrivals desk's), the same rule (`_flags`) the board applies to its rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.models import Location, Patient, Physician
from scheduling.board_geometry import Scale, Span
from scheduling.board_geometry import hm as clock
from scheduling.models import BOOKED_STATUSES, HOLDING_STATUSES, Appointment, AppointmentStatus, Outcome
from scheduling.pathways.holds import drug_holds, hold_notice_days, holds_too_late
from scheduling.selectors import Epoch, day_visits

# A visit still scheduled this close to its start has not been confirmed in time.
CONFIRM_WITHIN = dt.timedelta(hours=48)
ROW_HEIGHT = 58  # px of one row of a lane; the template's SVGs are drawn in pixels vertically
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
    "patient__first_name", "patient__last_name", "patient__needs_review", "patient_has_phone", "patient__email",
    "patient__sms_consent", "patient__email_consent",
    "procedure_type__code", "procedure_type__name", "procedure_type__bleeding_risk", "procedure_type__requires_order",
]
# Whether the patient has a phone number, asked of the database: the number itself would be
# parsed into a PhoneNumber per visit (the phone field's converter), for a yes or no.
_HAS_PHONE = ExpressionWrapper(Q(patient__phone__isnull=False) & ~Q(patient__phone=""), output_field=BooleanField())
# Read as epoch seconds (`day_rows`): whole minutes, parsed several times faster than timestamps.
_INSTANTS = {"arrival", "procedure_start", "procedure_end", "discharge", "room_start", "room_end"}
DayRow = namedtuple("DayRow", ROW_COLUMNS)
# Visits whose time is still to come: a late hold or a missing confirmation still matters.

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


class Words:
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


def visit_flags(appointment: Appointment, *, now: dt.datetime, zone, words: Words | None = None,
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
    elif appointment.status in BOOKED_STATUSES and drugs:
        told_on = hold_notice_days([appointment]).get(appointment.pk, {})
    return _flags(status=appointment.status, procedure_start=appointment.procedure_start,
                  discharge=appointment.discharge, created_at=appointment.created_at, drugs=drugs,
                  bleeding_risk=appointment.procedure_type.bleeding_risk, told_on=told_on or {},
                  needs_review=patient.needs_review, no_consent=patient.no_consent_to_contact,
                  now=now, zone=zone, words=words or Words())


def _flags(*, status: str, procedure_start: dt.datetime, discharge: dt.datetime, created_at: dt.datetime, drugs,
           bleeding_risk: str, told_on: dict[str, dt.date], needs_review: bool, no_consent: bool,
           now: dt.datetime, zone, words: Words) -> list[Flag]:
    """The flags' rule, on a visit's plain values: the board's rows and the desk's visits alike."""
    if status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        return []
    flags = []
    if status == AppointmentStatus.SCHEDULED and discharge > now and procedure_start - now <= CONFIRM_WITHIN:
        flags.append(Flag("not_confirmed", words.not_confirmed))
    if status in BOOKED_STATUSES and drugs:
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


def board_visit(row, scale: Scale, zone, now: dt.datetime, words: Words, physicians: dict[int, Physician],
                 room_names: dict[int, str], drugs: dict[int, list], hold_notices: dict[int, dict[str, dt.date]]
                 ) -> BoardVisit:
    """A row of `day_rows` as the board draws it."""
    room_seconds = (row.room_end - row.room_start).total_seconds() or 1
    status_label = words.statuses[row.status]
    flags = _flags(
        status=row.status, procedure_start=row.procedure_start, discharge=row.discharge, created_at=row.created_at,
        drugs=drugs.get(row.patient_id, ()), bleeding_risk=row.procedure_type__bleeding_risk,
        told_on=hold_notices.get(row.pk, {}), needs_review=row.patient__needs_review,
        no_consent=not Patient.channels_consented(sms_consent=row.patient__sms_consent, phone=row.patient_has_phone,
                                                  email_consent=row.patient__email_consent, email=row.patient__email),
        now=now, zone=zone, words=words)
    arrival, start = row.arrival.astimezone(zone), row.procedure_start.astimezone(zone)
    end, discharge = row.procedure_end.astimezone(zone), row.discharge.astimezone(zone)
    hm = {"arrival": clock(arrival), "start": clock(start), "end": clock(end), "discharge": clock(discharge)}
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
    arrival order: one query, no model object per visit. The visit's instants come as epoch
    seconds (`selectors.Epoch`), which become datetimes here several times faster than the
    database driver parses their text."""
    columns = [f"{name}_epoch" if name in _INSTANTS else name for name in ROW_COLUMNS]
    rows = (day_visits(location=location, day=day, include_cancelled=include_cancelled)
            .select_related(None).prefetch_related(None)
            .annotate(patient_has_phone=_HAS_PHONE, **{f"{name}_epoch": Epoch(name) for name in _INSTANTS})
            .values_list(*columns))
    instants = [index for index, name in enumerate(ROW_COLUMNS) if name in _INSTANTS]
    utc, from_epoch = dt.timezone.utc, dt.datetime.fromtimestamp
    day_rows = []
    for values in rows:
        values = list(values)
        for index in instants:
            values[index] = from_epoch(values[index], utc)
        day_rows.append(DayRow._make(values))
    return day_rows


def patients_drugs(patient_ids) -> dict[int, list]:
    """Each patient's blood thinners (BloodThinner rows), in one query for all of them."""
    drugs: dict[int, list] = defaultdict(list)
    for link in Patient.blood_thinners.through.objects.filter(patient_id__in=set(patient_ids)).select_related(
            "bloodthinner").order_by("pk"):
        drugs[link.patient_id].append(link.bloodthinner)
    return drugs
