"""The demo clinic's visits: a past that shows every pathway, and a day board that is alive.

Relative to the day it runs, `seed_demo_activity` seeds

- a few weeks of completed visits with outcomes, each a patient's story through one pathway:
  two qualifying lumbar medial branch blocks, so RFA can be booked; a successful SCS trial
  (with its psychological evaluation and lead removal), so the implant can be booked; an
  epidural injection that gave little relief, so a repeat is refused; a block here and a
  documented one at another clinic, so RFA can be booked (the all-payer rule accepts it); two
  care plans under way: one at its second block (ready to book), one stopped at its gate for
  the physician's decision;
- today's visits in every status (scheduled, confirmed, checked in, in procedure, in recovery,
  completed, cancelled, no-show) as far as the hour allows: a visit is under way, done or missed
  only once its time has passed in the location's zone (seeded before opening, the day's visits
  are all still to come); and a few in the coming days, one of them for a patient on warfarin
  booked too late for the hold.

Stable keys. Every visit belongs to a patient who exists only for it (fictitious names below),
and a patient's visits are seeded when the patient is created, never again: a second run adds
nothing, on the same day or any later one, and what staff have done with the visits since is
kept. A patient whose visits cannot be placed (a calendar already full) is not created either,
so a later run tries again.

How the past is made. Every visit is booked through `appointment_book`, which takes the
instant it is booked at (`now`): a visit five weeks ago is booked as of a week before it, so
the availability engine, the orders and the one eligibility check (scheduling.pathways) run
exactly as they did for a real booking. The lifecycle's transitions then take each visit to its
status through `_transition`, the step every lifecycle service takes, without the guards that
read today's clock (a check-in only on the visit's day, a no-show only after arrival): the
demo's past cannot be lived at today's clock, and the product code has no clock to travel
with. Reminders that would have gone out before now are recorded as sent at their due time, so
the worker does not send weeks of stale messages when the demo starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from clinic.demo import SeedReport
from clinic.models import BloodThinner, Channel, Location, Patient, Payer, Physician, ProcedureType
from scheduling import services
from scheduling.diary.prompts import prompt_minutes
from scheduling.diary.read import diary_view
from scheduling.errors import BookingError
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    CarePlanTemplate,
    TextDeliveryStatus,
    ProcedureElsewhere,
    BaselineSource,
    OutcomeSource,
    ProcedureOrder,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from scheduling.services.careplan_progress import careplan_visit_completed
from scheduling.services.careplans import plan_create
from scheduling.services.diary import diary_baseline_record, diary_entry_record, diary_procedure_ended
from scheduling.selectors import available_slots
from scheduling.pathways.checks import checks_needed
from scheduling.services.checks import checks_record
from scheduling.services.lifecycle import _transition

S = AppointmentStatus

# The lifecycle's path to each status, from scheduled.
PATHS = {
    S.SCHEDULED: [],
    S.CONFIRMED: [S.CONFIRMED],
    S.CHECKED_IN: [S.CONFIRMED, S.CHECKED_IN],
    S.IN_PROCEDURE: [S.CONFIRMED, S.CHECKED_IN, S.IN_PROCEDURE],
    S.IN_RECOVERY: [S.CONFIRMED, S.CHECKED_IN, S.IN_PROCEDURE, S.IN_RECOVERY],
    S.COMPLETED: [S.CONFIRMED, S.CHECKED_IN, S.IN_PROCEDURE, S.IN_RECOVERY, S.COMPLETED],
    S.NO_SHOW: [S.NO_SHOW],
    S.CANCELLED: [S.CANCELLED],
}
# A visit can only be under way, done or missed on a day the clinic is open.
ON_THE_DAY = {S.CHECKED_IN, S.IN_PROCEDURE, S.IN_RECOVERY, S.COMPLETED, S.NO_SHOW}


@dataclass(frozen=True)
class DemoVisit:
    code: str
    status: str
    days_from_today: int = 0  # the first day tried; the first free time on or after it is taken
    pain: tuple[int, int] | None = None  # outcome of a completed procedure: pain before, after
    order: dict = field(default_factory=dict)  # what the procedure's order records
    cancel_reason: str = ""


@dataclass(frozen=True)
class DemoElsewhere:
    """A procedure the patient had at another clinic, as the front desk records it."""

    code: str
    days_from_today: int
    relief_percent: int | None
    facility: str
    document_reference: str = ""
    region: str = "lumbar"


@dataclass(frozen=True)
class DemoPatient:
    first_name: str
    last_name: str
    born: dt.date
    visits: tuple[DemoVisit, ...]
    orders_after: tuple[tuple[str, dict], ...] = ()  # open orders the story ends with
    payer: str = "Medicare"
    blood_thinner: str = ""
    booked_today: bool = False  # booked as of now, not a week before the visit
    channel: str = Channel.EMAIL
    elsewhere: tuple[DemoElsewhere, ...] = ()  # recorded before the visits here
    plan: str = ""  # a care plan from this template, made before the visits: they are its first steps


LUMBAR = {"region": "lumbar"}

# The pathway stories: each patient's completed visits, and the order they can (or cannot) book.
STORIES = [
    DemoPatient("Harlan", "Pruitt", dt.date(1954, 3, 9), (
        DemoVisit("MBB_LUMBAR", S.COMPLETED, -35, pain=(8, 1), order=LUMBAR),
        DemoVisit("MBB_LUMBAR", S.COMPLETED, -21, pain=(7, 1), order=LUMBAR),
    ), orders_after=(("RFA_LUMBAR", LUMBAR),)),
    DemoPatient("Loretta", "Haines", dt.date(1961, 8, 22), (
        DemoVisit("SCS_TRIAL", S.COMPLETED, -30, pain=(8, 2), order={"region": "thoracic", "psych_evaluation": -60}),
    ), orders_after=(("SCS_IMPLANT", {"region": "thoracic"}),)),
    DemoPatient("Dolores", "Vance", dt.date(1958, 11, 2), (
        DemoVisit("ESI_IL", S.COMPLETED, -28, pain=(6, 5), order=LUMBAR),
    ), orders_after=(("ESI_IL", LUMBAR),)),
    DemoPatient("Wilma", "Dorsey", dt.date(1960, 7, 14), (
        DemoVisit("MBB_LUMBAR", S.COMPLETED, -14, pain=(8, 2), order=LUMBAR),
    ), orders_after=(("RFA_LUMBAR", LUMBAR),), payer="Self-pay", elsewhere=(
        DemoElsewhere("MBB_LUMBAR", -42, 80, "Green Country Pain Institute, Tulsa", "Scanned report GC-20418"),
    )),
]

# Care plans under way, from the demo templates: the first block's visit is the plan's first step.
# Ruth's diary showed 88% relief, so her second block is ready to book (its link was sent); Walter
# (Medicare, 80% asked) had 50%, so his plan stopped and waits on Needs attention for Dr. Okafor.
PLAN_STORIES = [
    DemoPatient("Ruth", "Calloway", dt.date(1957, 5, 2), (
        DemoVisit("MBB_LUMBAR", S.COMPLETED, -12, pain=(8, 1), order=LUMBAR),
    ), payer="Self-pay", plan="Lumbar facet pathway"),
    DemoPatient("Walter", "Brandt", dt.date(1951, 10, 6), (
        DemoVisit("MBB_LUMBAR", S.COMPLETED, -9, pain=(8, 4), order=LUMBAR),
    ), plan="Lumbar facet pathway"),
]

# Today's board, earliest first (the visits that are further along take the earlier times),
# and the coming days.
TODAY = [
    DemoPatient("Vernon", "Oakes", dt.date(1949, 6, 30), (DemoVisit("CONSULT_NEW", S.COMPLETED),)),
    DemoPatient("Marisol", "Ybarra", dt.date(1972, 2, 14), (DemoVisit("ESI_TF", S.NO_SHOW, order=LUMBAR),)),
    DemoPatient("Clyde", "Farris", dt.date(1957, 9, 5), (DemoVisit("MBB_LUMBAR", S.IN_RECOVERY, order=LUMBAR),),
                channel=Channel.SMS),
    DemoPatient("Bernice", "Tolliver", dt.date(1963, 4, 18), (DemoVisit("ESI_IL", S.IN_PROCEDURE, order=LUMBAR),)),
    DemoPatient("Arlo", "Kingsley", dt.date(1968, 12, 1), (
        DemoVisit("MBB_CERVICAL", S.CHECKED_IN, order={"region": "cervical"}),)),
    DemoPatient("Opal", "Whitacre", dt.date(1945, 7, 27), (DemoVisit("FOLLOW_UP", S.CONFIRMED),), payer="Self-pay"),
    DemoPatient("Desmond", "Achebe", dt.date(1975, 10, 9), (DemoVisit("ESI_CAUDAL", S.SCHEDULED, order=LUMBAR),)),
    DemoPatient("Imogene", "Sutter", dt.date(1952, 1, 23), (
        DemoVisit("CONSULT_NEW", S.CANCELLED, cancel_reason="The patient has the flu; will call to rebook."),)),
    DemoPatient("Royce", "Delacroix", dt.date(1966, 5, 12), (DemoVisit("CONSULT_NEW", S.SCHEDULED),),
                payer="Self-pay", channel=Channel.SMS),
]
COMING_DAYS = [
    DemoPatient("Lucille", "Barrow", dt.date(1950, 3, 3), (DemoVisit("ESI_IL", S.CONFIRMED, 1, order=LUMBAR),)),
    DemoPatient("Thaddeus", "Moody", dt.date(1959, 8, 8), (DemoVisit("CONSULT_NEW", S.SCHEDULED, 1),)),
    DemoPatient("Nadine", "Castellanos", dt.date(1970, 4, 29), (
        DemoVisit("MBB_LUMBAR", S.SCHEDULED, 2, order=LUMBAR),), channel=Channel.SMS),
    DemoPatient("Elmer", "Quaid", dt.date(1947, 12, 19), (
        DemoVisit("VERTEBROPLASTY", S.SCHEDULED, 3, order={"region": "thoracic", "imaging": -2}),)),
    # Booked today for a visit three days away: too late for the warfarin hold, which the
    # visit's page and the board flag for the staff.
    DemoPatient("Gertrude", "Pike", dt.date(1948, 2, 11), (DemoVisit("ESI_TF", S.SCHEDULED, 3, order=LUMBAR),),
                blood_thinner="Warfarin", booked_today=True),
    DemoPatient("Wendell", "Harrow", dt.date(1964, 9, 17), (DemoVisit("FOLLOW_UP", S.CONFIRMED, 4),),
                payer="Self-pay"),
]

EVERYONE = [*STORIES, *TODAY, *COMING_DAYS, *PLAN_STORIES]


class _NoRoom(Exception):
    """A demo visit found no free time: its patient is left out for a later run."""


class _Activity:
    def __init__(self, report: SeedReport, now: dt.datetime):
        self.report, self.now = report, now
        self.location = Location.objects.filter(is_active=True).order_by("pk").first()
        self.zone = self.location.zone
        self.today = now.astimezone(self.zone).date()
        self.ordering_physician = Physician.objects.filter(user__username="okafor").first() or \
            Physician.objects.filter(is_active=True).order_by("pk").first()
        self.undelivered_shown = False  # one text of the demo shows a failed delivery

    def local(self, day: dt.date, hour: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour)).replace(tzinfo=self.zone)

    def seed(self, people: list[DemoPatient], *, today_only: bool = False, story: bool = False) -> None:
        """Book each new patient's visits, then take them to their statuses: a story one visit
        after the other (its next step depends on the last one's outcome); a day's visits once
        all are booked, as a day fills up before anyone cancels or fails to come."""
        booked: list[tuple[Appointment, DemoVisit]] = []
        for person in people:
            if Patient.objects.filter(first_name=person.first_name, last_name=person.last_name,
                                      date_of_birth=person.born).exists():
                self.report.record("demo patients with visits", False)
                continue
            try:
                with transaction.atomic():
                    booked += self._seed_patient(person, today_only=today_only, story=story)
                self.report.record("demo patients with visits", True)
            except _NoRoom:
                self.report.record("demo patients left out (no free time)", True)
        for appointment, visit in booked:
            self._settle(appointment, visit)

    def _seed_patient(self, person: DemoPatient, *, today_only: bool, story: bool) -> list:
        payer = Payer.objects.filter(name=person.payer).first()
        handle = f"{person.first_name}.{person.last_name}".lower()
        number = EVERYONE.index(person)  # 555-0100 to 0139: fictional, and not the clinic's 0140
        patient = Patient.objects.create(
            first_name=person.first_name, last_name=person.last_name, date_of_birth=person.born,
            email=f"{handle}@example.com", phone=f"(918) 555-{100 + number:04d}",
            preferred_channel=person.channel, email_consent=True, sms_consent=person.channel == Channel.SMS,
            payer=payer,
        )
        if person.blood_thinner:
            patient.blood_thinners.set(BloodThinner.objects.filter(name=person.blood_thinner))
        for outside in person.elsewhere:
            ProcedureElsewhere.objects.create(
                patient=patient, procedure_type=ProcedureType.objects.get(code=outside.code),
                day=self.today + dt.timedelta(days=outside.days_from_today), region=outside.region,
                relief_percent=outside.relief_percent, facility=outside.facility,
                document_reference=outside.document_reference)
        steps = self._plan(patient, person) if person.plan else []
        booked = []
        for index, visit in enumerate(person.visits):
            order = steps[index].order if index < len(steps) else None
            appointment = self._book(patient, visit, booked_today=person.booked_today, today_only=today_only,
                                     order=order)
            if story:
                self._settle(appointment, visit)
            else:
                booked.append((appointment, visit))
        for code, details in person.orders_after:
            self._order(patient, code, details)
        return booked

    def _plan(self, patient: Patient, person: DemoPatient) -> list:
        """The patient's care plan from its template, made by the physician a week before the
        first visit; its steps in order."""
        template = CarePlanTemplate.objects.filter(name=person.plan, is_active=True).first()
        if template is None:
            return []
        first_day = self.today + dt.timedelta(days=person.visits[0].days_from_today)
        plan = plan_create(patient=patient, physician=self.ordering_physician, template=template,
                           now=self.local(first_day - dt.timedelta(days=7), 10))
        self.report.record("demo care plans", True)
        return list(plan.steps.order_by("position"))

    def _order(self, patient: Patient, code: str, details: dict) -> ProcedureOrder:
        values = {"region": details.get("region", "")}
        if "psych_evaluation" in details:
            values["psych_evaluation_date"] = self.today + dt.timedelta(days=details["psych_evaluation"])
        if "imaging" in details:
            values.update(imaging_confirms_acute_fracture=True,
                          imaging_date=self.today + dt.timedelta(days=details["imaging"]))
        return services.order_create(patient=patient, procedure_type=ProcedureType.objects.get(code=code),
                                     ordering_physician=self.ordering_physician, **values)

    def _slot(self, procedure_type: ProcedureType, patient: Patient, first_day: dt.date, last_day: dt.date,
              booked_at: dt.datetime):
        slots = available_slots(procedure_type=procedure_type, location=self.location, first_day=first_day,
                                last_day=last_day, now=booked_at, patient=patient, apply_minimum_notice=False,
                                limit=1)
        if not slots:
            raise _NoRoom
        return slots[0]

    def _book(self, patient: Patient, visit: DemoVisit, *, booked_today: bool, today_only: bool,
              order: ProcedureOrder | None = None) -> Appointment:
        procedure_type = ProcedureType.objects.get(code=visit.code)
        first_day = self.today + dt.timedelta(days=visit.days_from_today)
        if visit.days_from_today < 0:  # the past: the first free day from then, before today
            last_day = self.today - dt.timedelta(days=1)
        elif today_only:
            last_day = first_day
        else:
            last_day = first_day + dt.timedelta(days=10)
        # Booked a week before the visit's day, as a clinic books; or now, when the story says so.
        booked_at = self.now if booked_today else self.local(first_day - dt.timedelta(days=7), 10)
        slot = self._slot(procedure_type, patient, first_day, last_day, booked_at)
        if order is None and procedure_type.requires_order:
            order = self._order(patient, visit.code, visit.order)
        try:
            appointment = services.appointment_book(
                patient=patient, procedure_type=procedure_type,
                physician=Physician.objects.get(pk=slot.physician_id), start=slot.start, order=order,
                now=booked_at)
        except BookingError as error:
            raise _NoRoom from error
        self.report.record("demo visits", True, count=1 + appointment.follow_ups.count())
        return appointment

    def _settle(self, appointment: Appointment, visit: DemoVisit) -> None:
        """Take the visit to its status as far as the clock allows, record its outcome, and its
        reminders due before now as sent."""
        reached = self._walk(appointment, visit)
        if reached == S.COMPLETED:  # a care plan's step done on its day (as appointment_complete does)
            careplan_visit_completed(appointment=appointment, now=appointment.discharge)
        for follow_up in appointment.follow_ups.all():  # the SCS trial's lead removal, done as planned
            if reached == S.COMPLETED:
                self._walk(follow_up, DemoVisit(follow_up.procedure_type.code, S.COMPLETED))
            self._sent_before_now(follow_up)
        if visit.pain is not None and reached == S.COMPLETED and prompt_minutes(appointment.procedure_type):
            self._diary(appointment, *visit.pain)
        elif visit.pain is not None and reached == S.COMPLETED:
            before, after = visit.pain
            services.outcome_record(appointment=appointment, pain_before=before, pain_after=after)
        self._sent_before_now(appointment)

    def _diary(self, appointment: Appointment, before: int, after: int) -> None:
        """A block's pain diary as the patient filled it in (pain `after` for the first hours,
        then slowly back, relief at 50% or more through 6 hours), its outcome confirmed from it."""
        end = appointment.procedure_end
        diary_procedure_ended(appointment=appointment, at=end)
        diary_baseline_record(appointment=appointment, pain=before, source=BaselineSource.CHECK_IN,
                              now=appointment.arrival)
        minutes = prompt_minutes(appointment.procedure_type)
        for index, prompt in enumerate(minutes):
            pain = min(after + max(0, index - 2), before // 2)
            when = end + dt.timedelta(minutes=prompt)
            diary_entry_record(appointment=appointment, pain=max(pain, after), prompt=prompt, now=when)
        view = diary_view(appointment, now=end + dt.timedelta(minutes=minutes[-1] + 60))
        proposal = view.summary.proposal
        services.outcome_record(appointment=appointment, pain_before=proposal.pain_before,
                                pain_after=proposal.pain_after, relief_percent=proposal.relief_percent,
                                relief_duration_hours=proposal.relief_duration_hours, notes=proposal.notes,
                                source=OutcomeSource.PATIENT_DIARY)

    def _walk(self, appointment: Appointment, visit: DemoVisit) -> str:
        """Take the visit along its status's path, as far as `now` allows; the status reached."""
        reached = self._as_of_now(appointment, visit.status)
        for status in PATHS[reached]:
            if status == S.CANCELLED:
                services.appointment_cancel(appointment=appointment, reason=visit.cancel_reason,
                                            notify_patient=False)
            else:
                _transition(appointment, status, by=None, reason=f"{S(status).label} (demo)")
                if status == S.CHECKED_IN:  # the desk saw what the visit needs, as at a real check-in
                    checks_record(appointment=appointment, by=None, now=self.now,
                                  confirmed=[need.kind for need in checks_needed(appointment)])
        return reached

    def _as_of_now(self, appointment: Appointment, status: str) -> str:
        """The furthest step towards `status` the clock allows: a visit is checked in (or missed)
        once its arrival time has passed, in procedure once its start has, in recovery once its
        procedure's end has, done once its discharge has. Seeded before opening hours, today's
        visits are all still to come; later in the day, those whose times have passed move on."""
        due = {S.CHECKED_IN: appointment.arrival, S.NO_SHOW: appointment.arrival,
               S.IN_PROCEDURE: appointment.procedure_start, S.IN_RECOVERY: appointment.procedure_end,
               S.COMPLETED: appointment.discharge}
        reached = S.SCHEDULED
        for step in PATHS[status]:
            if step in due and due[step] > self.now:
                break
            reached = step
        return reached

    def _sent_before_now(self, appointment: Appointment) -> None:
        """Reminders due before now would have gone out: record them so, at their due time."""
        for reminder in Reminder.objects.filter(appointment=appointment, status=ReminderStatus.PENDING,
                                                due_at__lte=self.now):
            reminder.status, reminder.sent_at, reminder.attempts = ReminderStatus.SENT, reminder.due_at, 1
            fields = ["status", "sent_at", "attempts"]
            if reminder.channel == Channel.SMS:
                # What the provider's delivery reports would have said: delivered, bar one
                # confirmation request to a phone switched off (Twilio's error 30003), so the
                # reminder list shows both.
                undelivered = reminder.kind == ReminderKind.CONFIRMATION_REQUEST and not self.undelivered_shown
                self.undelivered_shown = self.undelivered_shown or undelivered
                reminder.delivery_status = TextDeliveryStatus.UNDELIVERED if undelivered else TextDeliveryStatus.DELIVERED
                reminder.delivery_error_code = "30003" if undelivered else ""
                reminder.delivery_reported_at = reminder.due_at + dt.timedelta(seconds=4)
                fields += ["delivery_status", "delivery_error_code", "delivery_reported_at"]
            reminder.save(update_fields=fields)


def _is_open(activity: _Activity, day: dt.date) -> bool:
    """Whether the clinic sees patients on `day` (a physician's clinic block, no closure)."""
    consult = ProcedureType.objects.get(code="CONSULT_NEW")
    return bool(available_slots(procedure_type=consult, location=activity.location, first_day=day, last_day=day,
                                now=activity.local(day), apply_minimum_notice=False, limit=1))


@transaction.atomic
def seed_demo_activity(report: SeedReport, *, now: dt.datetime) -> None:
    """Seed the demo's visits around `now` (see the module's docstring). Safe to run any number of times."""
    activity = _Activity(report, now)
    if activity.location is None or activity.ordering_physician is None:
        return
    activity.seed(STORIES, story=True)
    activity.seed(PLAN_STORIES, story=True)
    if _is_open(activity, activity.today):
        activity.seed(TODAY, today_only=True)
    else:
        # A weekend or a holiday: no visit is under way; the rest go on the next days.
        activity.seed([person for person in TODAY if not ON_THE_DAY & {visit.status for visit in person.visits}])
    activity.seed(COMING_DAYS)
