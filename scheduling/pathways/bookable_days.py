"""The days a patient may book a visit on: the one answer every page, the API and the booking
service ask.

A set of days, not one window: an interval or a yearly limit counted against a visit booked
later than the one asked about can close days in the middle of the horizon (two ESIs at least
14 days apart: a later one on the 20th refuses the 7th to the 19th, though the 1st and the 25th
are free). Each day is judged by the one eligibility check (`check_eligibility`, with the order
the booking service would choose for that day), between today and the location's booking
horizon.

Who books changes where the days start (the notice policy, README "Minimum notice"): a patient
booking for themselves may take a procedure no earlier than tomorrow, and no earlier than their
blood-thinner holds can still be kept (`first_bookable_day`); staff may book from today, and the
board flags a hold the patient heard of too late. The hours of minimum notice are a matter of
times, not days: `patient_notice_until` gives the instant, and the engine and the booking
service both apply it to patients alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, prefetch_related_objects

from clinic.models import Location, Patient, ProcedureType
from scheduling.models import Appointment, CarePlanStep, ProcedureOrder
from scheduling.pathways.eligibility import (
    applicable_rules,
    bookable_orders,
    check_eligibility,
    choose_order,
    no_order_reason,
    patient_history,
)
from scheduling.pathways.holds import first_bookable_day
from scheduling.pathways.rules import Eligibility, Unmet


@dataclass
class BookableDays:
    """Every day in [first_day, last_day] with the verdict of the rules on it."""

    first_day: dt.date  # the first day looked at (never before the first the booker may take)
    last_day: dt.date  # the last day looked at (never past the horizon)
    verdicts: dict[dt.date, Eligibility] = field(default_factory=dict)
    orders: dict[dt.date, ProcedureOrder | None] = field(default_factory=dict)  # the order each day uses
    before: Eligibility | None = None  # why the days asked for lie before the first the booker may take

    @property
    def days(self) -> list[dt.date]:
        """The days the patient may book, in order."""
        return [day for day in sorted(self.verdicts) if self.verdicts[day].eligible]

    def allows(self, day: dt.date) -> bool:
        verdict = self.verdicts.get(day)
        return verdict is not None and verdict.eligible

    def unmet(self, day: dt.date) -> list[Unmet]:
        """Why `day` is refused (empty when allowed); outside the days looked at, why not then."""
        verdict = self.verdicts.get(day)
        if verdict is not None:
            return verdict.unmet
        return self.before.unmet if self.before is not None else [Unmet(_outside(self, day))]

    @property
    def first(self) -> dt.date | None:
        return next(iter(self.days), None)

    @property
    def last(self) -> dt.date | None:
        days = self.days
        return days[-1] if days else None

    def why_not(self) -> Eligibility:
        """What stands in the way when no day is allowed: the first day's refusal, and any later
        day's reasons it does not name (an authorization that expires, a plan step's deadline)."""
        if not self.verdicts:
            return self.before or Eligibility([Unmet(_outside(self, self.first_day))])
        unmet: dict[str, Unmet] = {}
        for day in sorted(self.verdicts):
            for item in self.verdicts[day].unmet:
                unmet.setdefault(item.message, item)
        return Eligibility(list(unmet.values()))

    def ranges(self) -> list[tuple[dt.date, dt.date]]:
        """The allowed days as runs of consecutive days, first and last of each."""
        runs: list[tuple[dt.date, dt.date]] = []
        for day in self.days:
            if runs and runs[-1][1] + dt.timedelta(days=1) == day:
                runs[-1] = (runs[-1][0], day)
            else:
                runs.append((day, day))
        return runs


def _outside(days: BookableDays, day: dt.date) -> str:
    if day > days.last_day:
        return f"Visits are booked up to {days.last_day.isoformat()}, the booking horizon."
    return f"Visits are booked from {days.first_day.isoformat()} on."


def first_day_for(*, patient: Patient, procedure_type: ProcedureType, today: dt.date, by_patient: bool) -> dt.date:
    """The first day the booker may take: a patient, the first their preparation and holds allow;
    staff, today."""
    return first_bookable_day(patient=patient, procedure_type=procedure_type, today=today) if by_patient else today


def patient_notice_until(location: Location, now: dt.datetime) -> dt.datetime:
    """Patients booking themselves take no time that starts before this instant."""
    return now + dt.timedelta(hours=location.minimum_notice_hours)


def horizon_day(location: Location, now: dt.datetime) -> dt.date:
    """The last local day visits at `location` may be booked on."""
    return (now + dt.timedelta(days=location.booking_horizon_days)).astimezone(location.zone).date()


def bookable_days(*, patient: Patient, procedure_type: ProcedureType, location: Location, now: dt.datetime,
                  by_patient: bool, order: ProcedureOrder | None = None, rebooking: Appointment | None = None,
                  first_day: dt.date | None = None, last_day: dt.date | None = None,
                  visits: list[Appointment] | None = None) -> BookableDays:
    """The days from `first_day` (default today) to `last_day` (default the horizon) on which this
    patient may book this procedure at this location, each with its verdict.

    `order`: the order the booking is for; without one, an ordered procedure uses per day the
    oldest open order the patient is eligible with, as the booking service does. `rebooking`: the
    visit being moved; it uses its own order and does not count against the rules. A follow-up
    visit's day comes from its parent visit: no rule refuses it. `by_patient`: the patient books
    for themselves (the booking pages, their visit's link), which starts the days later
    (`first_day_for`). `visits`: the patient's visits (`patient_visits`) when the caller has
    read them already.
    """
    today = now.astimezone(location.zone).date()
    earliest = first_day_for(patient=patient, procedure_type=procedure_type, today=today, by_patient=by_patient)
    start = max(first_day or today, earliest)
    end = min(last_day or horizon_day(location, now), horizon_day(location, now))
    answer = BookableDays(first_day=start, last_day=end)
    if by_patient and first_day is not None and first_day < earliest:
        answer.before = Eligibility([Unmet(_too_soon(earliest, today, procedure_type))])
    days = [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]
    if rebooking is not None and rebooking.follow_up_of_id:
        answer.verdicts = {day: Eligibility() for day in days}
        answer.orders = {day: rebooking.order for day in days}
        return answer
    if not days:
        return answer
    rules = applicable_rules(procedure_type, patient.payer_id)
    history = patient_history(patient, exclude=rebooking, visits=visits) if rules else []
    orders = None
    if rebooking is None and order is None and procedure_type.requires_order:
        orders = _with_plan_steps(bookable_orders(patient, procedure_type))
    fixed_order = rebooking.order if rebooking is not None else order
    if fixed_order is not None and fixed_order.pk is not None and len(days) > 1:
        # A fresh copy with its care-plan step read once, not once a day; the caller's stays as it is.
        # (One day, as the booking asks, reads the step at most once anyway.)
        fixed_order = _with_plan_steps(list(ProcedureOrder.objects.filter(pk=fixed_order.pk)))[0]
    for day in days:
        if orders is not None:
            if not orders:
                chosen, verdict = None, Eligibility([Unmet(no_order_reason(patient, procedure_type))])
            else:
                chosen, verdict = choose_order(patient=patient, procedure_type=procedure_type, day=day,
                                               orders=orders, history=history, rules=rules)
        else:
            chosen = fixed_order
            verdict = check_eligibility(patient=patient, procedure_type=procedure_type, order=fixed_order, day=day,
                                        exclude=rebooking, history=history, rules=rules)
        answer.verdicts[day], answer.orders[day] = verdict, chosen
    return answer


def _with_plan_steps(orders: list[ProcedureOrder]) -> list[ProcedureOrder]:
    prefetch_related_objects(orders, Prefetch("care_plan_steps", queryset=CarePlanStep.objects.select_related("plan")))
    return orders


def _too_soon(earliest: dt.date, today: dt.date, procedure_type: ProcedureType) -> str:
    if procedure_type.requires_order and earliest == today + dt.timedelta(days=1):
        return (f"{procedure_type.name} is booked online from tomorrow on, the day's preparation needs a day's "
                "notice.")
    return (f"Booked online, the first day for {procedure_type.name} is {earliest.isoformat()}: "
            "the patient's blood-thinner holds must start after today.")
