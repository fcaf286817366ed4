"""Blood-thinner holds before a procedure, from the patient's drugs and the procedure's bleeding risk.

"N days" means no dose on the N days before the procedure day nor on that day (DESIGN.md,
section 2, from the ASRA Pain Medicine guideline, 2018). Every instruction says to stop only
with the prescriber's approval.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from clinic.models import Patient, ProcedureType
from scheduling.models import BEFORE_PROCEDURE_STATUSES, Reminder, ReminderKind, ReminderStatus

PRESCRIBER_NOTE = gettext_lazy("Stop only with the approval of the doctor who prescribes it.")


@dataclass(frozen=True)
class Hold:
    drug: str
    hold_days: int
    last_dose: dt.date
    first_day_without: dt.date
    restart_guidance: str

    def instruction(self) -> str:
        text = _("%(drug)s: take your last dose on %(last)s; take none from %(first)s through the day of your "
                 "procedure.") % {"drug": self.drug, "last": date_format(self.last_dose, _("l F j")),
                                  "first": date_format(self.first_day_without, _("l F j"))}
        return f"{text} {self.restart_guidance} {PRESCRIBER_NOTE}".replace("  ", " ").strip()

    def too_late(self, told_on: dt.date) -> bool:
        """Told on `told_on`, the patient cannot stop in time: the last-dose day has passed, so
        they may have taken a dose they should not have, and the clinic must check."""
        return self.last_dose < told_on


def blood_thinner_holds(*, patient: Patient, procedure_type: ProcedureType, procedure_day: dt.date) -> list[Hold]:
    """One hold per drug the patient takes that this procedure's bleeding risk asks to stop."""
    return drug_holds(patient.blood_thinners.all(), bleeding_risk=procedure_type.bleeding_risk,
                      procedure_day=procedure_day)


def drug_holds(drugs, *, bleeding_risk: str, procedure_day: dt.date) -> list[Hold]:
    """The holds of these drugs (BloodThinner rows) before a procedure of this bleeding risk on
    `procedure_day`: what a page of many visits asks with each patient's drugs read once for all."""
    holds = []
    for drug in drugs:
        last_dose = drug.last_dose_date(bleeding_risk, procedure_day)
        if last_dose is None:
            continue
        holds.append(Hold(drug=drug.name, hold_days=drug.hold_days(bleeding_risk),
                          last_dose=last_dose, first_day_without=last_dose + dt.timedelta(days=1),
                          restart_guidance=drug.restart_guidance))
    return sorted(holds, key=lambda hold: hold.last_dose)


def hold_notice_days(appointments) -> dict[int, dict[str, dt.date]]:
    """For each visit, the day its patient was sent each drug's hold message (local), in one
    query for all of them; a visit with no hold message is absent."""
    return hold_notice_days_by_id({appointment.pk: appointment.location.zone for appointment in appointments})


def hold_notice_days_by_id(zones: dict) -> dict[int, dict[str, dt.date]]:
    """`hold_notice_days` for visits given as {visit id: its location's zone}."""
    told: dict[int, dict[str, dt.date]] = {}
    if not zones:
        return told
    rows = (Reminder.objects.filter(appointment_id__in=zones, kind=ReminderKind.BLOOD_THINNER_HOLD)
            .exclude(status=ReminderStatus.CANCELLED).order_by("due_at")
            .values_list("appointment_id", "context__drug", "due_at"))
    for appointment_id, drug, due_at in rows:
        told.setdefault(appointment_id, {})[drug] = due_at.astimezone(zones[appointment_id]).date()
    return told


def holds_told_too_late(appointment, *, told_on: dict[str, dt.date] | None = None) -> list[Hold]:
    """The blood-thinner holds of a visit not yet under way that its patient heard of too late:
    the visit was booked (or moved) after the last-dose day, and staff must check with the
    patient before the procedure.

    The patient is told by the hold's message, which goes out at once when its time has passed
    at booking; without one (no consent to messages) they are told when the visit is booked.
    `told_on` (drug -> day, from `hold_notice_days`) spares a page of many visits a query each."""
    if appointment.status not in BEFORE_PROCEDURE_STATUSES:
        return []
    zone = appointment.location.zone
    holds = blood_thinner_holds(patient=appointment.patient, procedure_type=appointment.procedure_type,
                                procedure_day=appointment.procedure_start.astimezone(zone).date())
    if not holds:
        return []
    if told_on is None:
        told_on = hold_notice_days([appointment]).get(appointment.pk, {})
    return holds_too_late(holds, told_on=told_on, booked_on=appointment.created_at.astimezone(zone).date())


def holds_too_late(holds: list[Hold], *, told_on: dict[str, dt.date], booked_on: dt.date) -> list[Hold]:
    """Of a visit's holds, those its patient heard of too late: told by the hold's message on
    the day in `told_on`, or else when the visit was booked (`booked_on`, local)."""
    return [hold for hold in holds if hold.too_late(told_on.get(hold.drug, booked_on))]


def preparation_lines(procedure_type: ProcedureType) -> list[str]:
    """What the patient must do before the visit, in the order a patient needs it."""
    lines = []
    if procedure_type.fasting_hours:
        lines.append(ngettext("No solid food for %(hours)d hour before your arrival time.",
                              "No solid food for %(hours)d hours before your arrival time.",
                              procedure_type.fasting_hours) % {"hours": procedure_type.fasting_hours})
    if procedure_type.driver_required:
        lines.append(_("An adult must drive you home; you may not drive after sedation."))
    if procedure_type.patient_preparation:
        lines.append(procedure_type.patient_preparation)
    return lines


def first_day_holds_allow(*, patient: Patient, procedure_type: ProcedureType, today: dt.date) -> dt.date:
    """The first procedure day whose blood-thinner holds all start after today, so the patient
    can still stop in time (a hold starting today is too late: today's dose may be taken)."""
    first = today
    for hold in blood_thinner_holds(patient=patient, procedure_type=procedure_type, procedure_day=today):
        # A hold moves with the procedure day: k days later, it starts k days later.
        first = max(first, today + (today - hold.first_day_without) + dt.timedelta(days=1))
    return first


def first_bookable_day(*, patient: Patient, procedure_type: ProcedureType, today: dt.date) -> dt.date:
    """The first day a patient may take by themselves (booking online, moving a visit, taking a
    waitlist offer). A procedure needs a day's notice at least (fasting, a driver, the day's
    preparation message); a patient on a blood thinner needs enough days to stop it. A
    consultation can be today."""
    first = today + dt.timedelta(days=1) if procedure_type.requires_order else today
    return max(first, first_day_holds_allow(patient=patient, procedure_type=procedure_type, today=today))
