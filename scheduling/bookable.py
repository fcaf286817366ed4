"""The times the staff may book (or move) one visit at, for the admin's booking and reschedule pages.

The engine's free times, on the days `bookable_days` allows (the answer the booking service
refuses by). Staff may book inside the location's minimum notice; such a time says so. With a physician's
override the days the rules refuse are searched too, and each time carries the rules' unmet
requirements for its day, in the check's own words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import groupby

from django.utils.translation import gettext as _

from clinic.models import Location, Patient, Physician, ProcedureType, Room
from scheduling import availability as engine
from scheduling.models import Appointment, ProcedureOrder
from scheduling.pathways.bookable_days import bookable_days, patient_notice_until
from scheduling.pathways.eligibility import no_order_reason
from scheduling.selectors import availability_request, available_slots, segments_of

# Times offered at once: all of the day asked for, and of the next fourteen the first few of each
# physician's day, so that the front desk sees every day searched, not only the first two.
SEARCH_DAYS = 14
TIMES_PER_PHYSICIAN_DAY = 6


def slot_value(slot: engine.Slot) -> str:
    """A time as a form value: the start with its UTC offset, the physician and the room, so that
    the service is asked for exactly the time that was offered (`scheduling.admin.forms.parse_slot`)."""
    return f"{slot.start.isoformat()}|{slot.physician_id}|{slot.room_id}"


@dataclass(frozen=True)
class Time:
    slot: engine.Slot
    physician: str
    room: str
    refused: tuple[str, ...] = ()  # why the rules refuse its day: booked only with an override
    inside_notice: bool = False  # inside the location's minimum notice: staff may book it, patients may not

    @property
    def value(self) -> str:
        return slot_value(self.slot)


@dataclass
class BookableTimes:
    location: Location
    times: list[Time] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)  # why the rules refuse the first day searched
    rules_allow_any: bool = True  # some day searched is allowed by the rules
    wanted: Time | None = None  # the time asked for (the day board's "book here"), when it can be had
    wanted_refusal: str = ""  # else why not

    def by_day(self) -> list[tuple[dt.date, list[Time]]]:
        """The times by local day, each day's by physician, then by start."""
        zone = self.location.zone
        return [(day, sorted(times, key=lambda time: (time.physician, time.slot.start))) for day, times in
                groupby(self.times, key=lambda time: time.slot.start.astimezone(zone).date())]


def _day_verdicts(*, patient: Patient, procedure_type: ProcedureType, location: Location, now: dt.datetime,
                  order: ProcedureOrder | None, rebooking: Appointment | None,
                  days: list[dt.date]) -> dict[dt.date, list[str]]:
    """Each day's unmet requirements (empty: the rules allow it), from `bookable_days`, the answer
    the booking service refuses by: staff book, so the day starts today."""
    answer = bookable_days(patient=patient, procedure_type=procedure_type, location=location, now=now,
                           by_patient=False, order=order, rebooking=rebooking, first_day=days[0], last_day=days[-1])
    return {day: [item.message for item in answer.unmet(day)] for day in days}


def bookable_times(*, patient: Patient, procedure_type: ProcedureType, location: Location, first_day: dt.date,
                   now: dt.datetime, physician: Physician | None = None, order: ProcedureOrder | None = None,
                   rebooking: Appointment | None = None, override: bool = False,
                   wanted: tuple[dt.datetime, Physician, Room | None] | None = None) -> BookableTimes:
    """The times of `first_day`, and of the SEARCH_DAYS days after it the first TIMES_PER_PHYSICIAN_DAY
    of each physician's day.

    `rebooking` is the visit being moved: its own time does not count as busy, nor does it count
    against the rules. `override` (a physician's, with a reason) adds the times of the days the
    rules refuse, each with why. `wanted` is a time asked for ahead (start, physician, room or
    None): it is picked out if it can be had, else the answer says why not.
    """
    days = [first_day + dt.timedelta(days=offset) for offset in range(SEARCH_DAYS + 1)]
    verdicts = _day_verdicts(patient=patient, procedure_type=procedure_type, location=location, now=now,
                             order=order, rebooking=rebooking, days=days)
    answer = BookableTimes(location=location, unmet=verdicts[first_day])
    no_order = no_order_reason(patient, procedure_type)
    # A missing order is no rule a physician can override: the booking service refuses it anyway.
    overridable = override and no_order not in verdicts[first_day]
    allowed = [day for day in days if not verdicts[day]]
    answer.rules_allow_any = bool(allowed)
    search = dict(first_day=first_day, last_day=days[-1], now=now, procedure_type=procedure_type, location=location,
                  patient=patient, exclude_appointment=rebooking, apply_minimum_notice=False)
    slots: list[engine.Slot] = []
    if overridable:
        slots = available_slots(**search, physician=physician)
    elif allowed:
        slots = available_slots(**{**search, "first_day": allowed[0], "last_day": allowed[-1]}, physician=physician)
        zone = location.zone
        slots = [slot for slot in slots if not verdicts[slot.start.astimezone(zone).date()]]
    slots = _first_of_each_day(slots, location.zone, whole_day=first_day)
    wanted_slot = None
    if wanted is not None:
        wanted_slot, answer.wanted_refusal = _wanted(wanted, slots, verdicts, search, overridable)
        if wanted_slot is not None:  # in place of the engine's pick of a room at that time, if it made one
            slots = sorted([*(slot for slot in slots if slot != wanted_slot), wanted_slot])
    physicians = {p.pk: p.name for p in
                  Physician.objects.filter(pk__in={slot.physician_id for slot in slots}).select_related("user")}
    rooms = dict(location.rooms.values_list("pk", "name"))
    zone = location.zone
    notice_until = patient_notice_until(location, now)
    for slot in slots:
        time = Time(slot=slot, physician=physicians[slot.physician_id], room=rooms[slot.room_id],
                    refused=tuple(verdicts.get(slot.start.astimezone(zone).date(), ())),
                    inside_notice=slot.start < notice_until)
        answer.times.append(time)
        if slot is wanted_slot:
            answer.wanted = time
    return answer


def _first_of_each_day(slots: list[engine.Slot], zone, *, whole_day: dt.date) -> list[engine.Slot]:
    """All the slots of `whole_day`, and the first TIMES_PER_PHYSICIAN_DAY of each physician's other
    local days, in order of start."""
    counts: dict[tuple[int, dt.date], int] = {}
    kept = []
    for slot in slots:
        key = (slot.physician_id, slot.start.astimezone(zone).date())
        counts[key] = counts.get(key, 0) + 1
        if key[1] == whole_day or counts[key] <= TIMES_PER_PHYSICIAN_DAY:
            kept.append(slot)
    return kept


def _wanted(wanted, slots: list[engine.Slot], verdicts: dict[dt.date, list[str]], search: dict,
            override: bool) -> tuple[engine.Slot | None, str]:
    """The slot for the time asked for, or why it cannot be had (the engine's words, the rules')."""
    start, physician, room = wanted
    for slot in slots:
        if slot.start == start and slot.physician_id == physician.pk and (room is None or slot.room_id == room.pk):
            return slot, ""
    location = search["location"]
    day = start.astimezone(location.zone).date()
    if day not in verdicts:
        return None, _("That time is outside the days searched; choose a day to search from.")
    request = availability_request(**{**search, "first_day": day, "last_day": day}, physician=physician, room=room)
    reason = engine.explain_unavailable(request, start, physician.pk, room.pk if room else None)
    if reason:
        return None, reason
    if verdicts[day] and not override:
        return None, " ".join(verdicts[day])
    visit = engine.visit_at(start, segments_of(search["procedure_type"]))
    room_id = room.pk if room else next(
        candidate.id for candidate in request.rooms
        if not engine.BusySpans(candidate.busy).overlaps(visit.room_start, visit.room_end))
    return engine.Slot(start=visit.start, end=visit.end, arrival=visit.arrival, discharge=visit.discharge,
                       physician_id=physician.pk, room_id=room_id), ""
