"""How the staff's pages show a visit's status: one word and one tone per status, and the
arrivals desk's state ("late" is a status plus the clock). Templates take the `tone` as a CSS
class and always print the `label` beside it: never colour alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from scheduling.models import Appointment, AppointmentStatus

S = AppointmentStatus


@dataclass(frozen=True)
class VisitState:
    key: str
    label: str
    tone: str  # a CSS class suffix: status-<tone>, the board's colour of that status (status.css)


# The appointment's own status as the board and the sheets show it.
STATUS_TONES: dict[str, str] = {value: value for value in S.values}


def status_state(visit: Appointment) -> VisitState:
    return VisitState(visit.status, visit.get_status_display(), STATUS_TONES[visit.status])


EXPECTED = VisitState("expected", _("Expected"), S.SCHEDULED)
LATE = VisitState("late", _("Late"), "late")
CHECKED_IN = VisitState("checked_in", _("Checked in"), S.CHECKED_IN)
IN_PROCEDURE = VisitState("in_procedure", _("In procedure"), S.IN_PROCEDURE)
IN_RECOVERY = VisitState("in_recovery", _("In recovery"), S.IN_RECOVERY)
DONE = VisitState("done", _("Completed"), S.COMPLETED)
NO_SHOW = VisitState("no_show", _("No-show"), S.NO_SHOW)
CANCELLED = VisitState("cancelled", _("Cancelled"), S.CANCELLED)

ARRIVAL_STATES = [EXPECTED, LATE, CHECKED_IN, IN_PROCEDURE, IN_RECOVERY, DONE, NO_SHOW, CANCELLED]

_BY_STATUS = {
    S.CHECKED_IN: CHECKED_IN,
    S.IN_PROCEDURE: IN_PROCEDURE,
    S.IN_RECOVERY: IN_RECOVERY,
    S.COMPLETED: DONE,
    S.NO_SHOW: NO_SHOW,
    S.CANCELLED: CANCELLED,
}


def arrival_state(visit: Appointment, *, now: dt.datetime) -> VisitState:
    """Where the patient is in their day: a visit not checked in is late once its arrival time
    has passed (not merely once the procedure should have started)."""
    if visit.status in _BY_STATUS:
        return _BY_STATUS[visit.status]
    return LATE if now >= visit.arrival else EXPECTED
