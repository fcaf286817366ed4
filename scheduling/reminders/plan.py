"""When each reminder of a visit goes out: the plan's steps turned into instants.

Day-based steps ("2 days before at 10:00") are in the location's local time, so they keep
their wall-clock time across daylight-saving changes. Text messages respect quiet hours
(none from 21:00 to 08:00 local): one due then goes out at 08:00, or at 20:00 the evening
before when 08:00 would be too late for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

QUIET_FROM, QUIET_UNTIL = dt.time(21), dt.time(8)
LAST_BEFORE_QUIET = dt.time(20)


@dataclass(frozen=True)
class Step:
    kind: str
    anchor: str
    days: int = 0
    minutes: int = 0
    at_time: dt.time | None = None


@dataclass(frozen=True)
class Visit:
    booked_at: dt.datetime
    arrival: dt.datetime
    start: dt.datetime
    discharge: dt.datetime
    zone: ZoneInfo
    hold_last_doses: dict[str, dt.date] = field(default_factory=dict)  # drug -> last-dose day
    end: dt.datetime | None = None  # the procedure's end: planned, or the real one once recorded


@dataclass(frozen=True)
class Planned:
    kind: str
    due_at: dt.datetime
    context: dict = field(default_factory=dict)


def _local(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at).replace(tzinfo=zone)


def outside_quiet_hours(due: dt.datetime, zone: ZoneInfo, *, deadline: dt.datetime) -> dt.datetime:
    """Move a text message out of quiet hours, keeping it before `deadline` (the arrival)."""
    local = due.astimezone(zone)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return due
    morning_day = local.date() if local.time() < QUIET_UNTIL else local.date() + dt.timedelta(days=1)
    morning = _local(morning_day, QUIET_UNTIL, zone)
    if morning < deadline:
        return morning
    evening_day = morning_day - dt.timedelta(days=1)
    return _local(evening_day, LAST_BEFORE_QUIET, zone)


# Reminders that go out at once when their time has passed at booking: the confirmation, and
# the blood-thinner hold, which a patient booked after the last-dose day's reminder time (or
# after that day) must still get; dropped, the patient would never hear of it.
DUE_AT_ONCE_WHEN_PASSED = ("booked", "hold_start")


# Prompts after the visit (the pain diary) are held out of quiet hours up to two days, not
# kept before the arrival like the reminders before it.
AFTER_THE_VISIT = ("after_procedure_end", "after_discharge")


def plan(steps: list[Step], visit: Visit, *, sms: bool, now: dt.datetime) -> list[Planned]:
    """The reminders of a visit with their due instants; those already past are dropped,
    except the booking confirmation and the blood-thinner holds, which are due at once."""
    zone, visit_day = visit.zone, visit.start.astimezone(visit.zone).date()
    planned: list[Planned] = []
    for step in steps:
        dues: list[tuple[dt.datetime, dict]] = []
        if step.anchor == "booked":
            dues.append((max(visit.booked_at, now), {}))
        elif step.anchor == "days_before":
            dues.append((_local(visit_day - dt.timedelta(days=step.days), step.at_time, zone), {}))
        elif step.anchor == "before_arrival":
            dues.append((visit.arrival - dt.timedelta(minutes=step.minutes), {}))
        elif step.anchor == "after_procedure_end":
            dues.append(((visit.end or visit.discharge) + dt.timedelta(minutes=step.minutes), {}))
        elif step.anchor == "after_discharge":
            dues.append((visit.discharge + dt.timedelta(minutes=step.minutes), {}))
        elif step.anchor == "days_after":
            dues.append((_local(visit_day + dt.timedelta(days=step.days), step.at_time, zone), {}))
        elif step.anchor == "hold_start":
            for drug, last_dose in sorted(visit.hold_last_doses.items()):
                dues.append((_local(last_dose, step.at_time, zone), {"drug": drug, "last_dose": last_dose.isoformat()}))
        for due, context in dues:
            if step.anchor in DUE_AT_ONCE_WHEN_PASSED:
                due = max(due, now)
            if sms and step.anchor not in AFTER_THE_VISIT:
                due = outside_quiet_hours(due, zone, deadline=visit.arrival)
            elif sms:
                due = outside_quiet_hours(due, zone, deadline=due + dt.timedelta(days=2))
            if step.anchor in DUE_AT_ONCE_WHEN_PASSED or due >= now:
                planned.append(Planned(step.kind, due, context))
    return sorted(planned, key=lambda item: item.due_at)
