"""Recording a visit's pre-procedure checks: who confirmed each, and when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db import transaction
from django.utils.translation import gettext as _

from scheduling.errors import BookingError, InvalidTransition
from scheduling.models import Appointment, AppointmentStatus, PreProcedureCheck
from scheduling.pathways.checks import checks_needed


def checks_record(*, appointment: Appointment, confirmed: Collection[str], by, now: dt.datetime
                  ) -> list[PreProcedureCheck]:
    """Write a row for each check the visit needs, confirming those in `confirmed` by `by`.

    A check confirmed earlier keeps who confirmed it first; nothing is un-confirmed here. The
    rows keep what was needed then, so the record stands if the catalog changes later.
    """
    needs = {need.kind: need for need in checks_needed(appointment)}
    unknown = set(confirmed) - set(needs)
    if unknown:
        raise BookingError(_("This visit does not need that check: %(checks)s.") % {
            "checks": ", ".join(sorted(unknown))}, field="checks")
    with transaction.atomic():
        rows = {row.kind: row for row in PreProcedureCheck.objects.select_for_update().filter(
            appointment=appointment)}
        for kind, need in needs.items():
            row = rows.get(kind) or PreProcedureCheck(appointment=appointment, kind=kind, detail=need.detail[:300])
            if kind in confirmed and row.confirmed_at is None:
                row.confirmed_by, row.confirmed_at = by, now
            if row.pk is None or kind in confirmed:
                row.save()
            rows[kind] = row
    return list(rows.values())


def visit_checks_confirm(*, appointment: Appointment, confirmed: Collection[str], by, now: dt.datetime
                         ) -> list[PreProcedureCheck]:
    """Confirm checks after check-in (the driver arrived later), before the procedure starts."""
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if current.status != AppointmentStatus.CHECKED_IN:
            raise InvalidTransition(_("This visit is %(status)s; its checks are recorded between check-in and the "
                                      "start of the procedure.") % {"status": current.get_status_display().lower()})
        return checks_record(appointment=current, confirmed=confirmed, by=by, now=now)
