"""The pre-procedure checks a visit needs: the one rule behind check-in, the start of a
procedure, the arrivals desk, the day board and the printed day sheets.

- Fasting confirmed: the procedure asks for fasting hours, or is done under sedation.
- Driver present: the procedure requires a driver (sedation does; DESIGN.md section 2).
- Blood thinner stopped: the patient takes a drug that the procedure's bleeding risk asks to
  stop (the hold table, ASRA Pain Medicine 2018).
- Consent form signed: every procedure (those booked against a physician's order), not a
  consultation or follow-up.

Reads only the visit's procedure type, its patient's blood thinners and its check rows, so a
list of visits from `day_visits` (which prefetches both) costs no query per visit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic.models import BloodThinner, ProcedureType
from scheduling.models import Appointment, CheckKind
from scheduling.pathways.holds import blood_thinner_holds

@dataclass(frozen=True)
class CheckNeed:
    """A check this visit needs, with what exactly to check (`detail`)."""

    kind: str
    detail: str

    @property
    def label(self) -> str:
        return CheckKind(self.kind).label

    @property
    def short_label(self) -> str:
        return short_label(self.kind)


def short_label(kind: str) -> str:
    return {
        CheckKind.FASTING: _("Fasting"),
        CheckKind.DRIVER: _("Driver"),
        CheckKind.BLOOD_THINNER: _("Blood thinner"),
        CheckKind.CONSENT: _("Consent"),
    }[kind]


def procedure_day(visit: Appointment) -> dt.date:
    return visit.procedure_start.astimezone(visit.location.zone).date()


def needed_kinds(*, procedure_type: ProcedureType, drugs: Iterable[BloodThinner]) -> list[str]:
    """The rule: the kinds of check a visit of `procedure_type` needs for a patient taking
    `drugs`, in the order a nurse asks them. A drug needs checking when the procedure's
    bleeding risk asks to hold it (the hold table's days for that risk are more than none)."""
    kinds = []
    if procedure_type.fasting_hours or procedure_type.is_sedated:
        kinds.append(CheckKind.FASTING)
    if procedure_type.driver_required:
        kinds.append(CheckKind.DRIVER)
    if any(drug.hold_days(procedure_type.bleeding_risk) for drug in drugs):
        kinds.append(CheckKind.BLOOD_THINNER)
    if procedure_type.requires_order:
        kinds.append(CheckKind.CONSENT)
    return kinds


def with_recorded(needed: list[str], recorded: Iterable[str]) -> list[str]:
    """The kinds to show for a visit: those needed now, then any recorded at check-in that the
    catalog no longer asks for (the record stands)."""
    return [*needed, *(kind for kind in recorded if kind not in needed)]


def checks_needed(visit: Appointment) -> list[CheckNeed]:
    """The checks this visit needs before its procedure starts, each with what to check."""
    procedure_type = visit.procedure_type
    needs = []
    for kind in needed_kinds(procedure_type=procedure_type, drugs=visit.patient.blood_thinners.all()):
        if kind == CheckKind.FASTING:
            detail = (ngettext("No solid food for %(hours)d hour before arrival.",
                               "No solid food for %(hours)d hours before arrival.",
                               procedure_type.fasting_hours) % {"hours": procedure_type.fasting_hours}
                      if procedure_type.fasting_hours else _("Sedation: nothing to eat before arrival."))
        elif kind == CheckKind.DRIVER:
            detail = _("An adult drives the patient home.")
        elif kind == CheckKind.BLOOD_THINNER:
            holds = blood_thinner_holds(patient=visit.patient, procedure_type=procedure_type,
                                        procedure_day=procedure_day(visit))
            detail = "; ".join(_("%(drug)s: no dose since %(day)s") % {
                "drug": hold.drug, "day": date_format(hold.first_day_without, "D M j")} for hold in holds)
        else:
            detail = _("Signed consent for this procedure.")
        needs.append(CheckNeed(kind, detail))
    return needs


@dataclass(frozen=True)
class CheckState:
    """One needed check and what was recorded about it."""

    kind: str
    detail: str
    confirmed_by: object = None  # a user, or None
    confirmed_at: dt.datetime | None = None
    missing_reason: str = ""

    @property
    def label(self) -> str:
        return CheckKind(self.kind).label

    @property
    def short_label(self) -> str:
        return short_label(self.kind)

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True)
class VisitChecks:
    """The checks a visit needs and which of them are confirmed."""

    items: tuple[CheckState, ...]

    @property
    def needed(self) -> bool:
        return bool(self.items)

    @property
    def confirmed(self) -> list[CheckState]:
        return [item for item in self.items if item.confirmed]

    @property
    def missing(self) -> list[CheckState]:
        return [item for item in self.items if not item.confirmed]

    @property
    def complete(self) -> bool:
        return not self.missing

    def missing_words(self) -> str:
        return ", ".join(item.label.lower() for item in self.missing)


def visit_checks(visit: Appointment) -> VisitChecks:
    """The visit's needed checks with what was recorded: the rule's needs now, plus any check
    recorded at check-in that the catalog no longer asks for (the record stands)."""
    rows = {row.kind: row for row in visit.checks.all()}  # prefetched by day_visits
    needs = {need.kind: need.detail for need in checks_needed(visit)}
    items = []
    for kind in with_recorded(list(needs), rows):
        row = rows.get(kind)
        items.append(_state(kind, row.detail if row and row.detail else needs.get(kind, ""), row))
    return VisitChecks(tuple(items))


def _state(kind: str, detail: str, row) -> CheckState:
    if row is None:
        return CheckState(kind=kind, detail=detail)
    return CheckState(kind=kind, detail=detail, confirmed_by=row.confirmed_by, confirmed_at=row.confirmed_at,
                      missing_reason=row.missing_reason)
