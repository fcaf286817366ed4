"""Visits as CSV: the day of the staff's day (`/admin/board/export.csv`) and, through the
appointment admin, the appointment list with its current filters.

Written with the standard library's csv module into a StreamingHttpResponse rather than with
django-import-export: exporting is all that is needed here, and the csv module adds no
dependency, where import-export would add a package and its resource layer to keep in step
with the models. Streaming writes each row as it is read (the visits in chunks), so a month of
3,000 visits costs no more memory than a day.

Every time is in the visit's location's zone, with its UTC offset (ISO 8601), so a
spreadsheet reads the clinic's wall clock and the instant is never ambiguous across DST.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Callable

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext, gettext_lazy as _

from scheduling.admin.board.params import day_choice
from scheduling.models import Appointment
from scheduling.pathways.checks import visit_checks
from scheduling.selectors import day_visits

VIEW_PERMISSION = "scheduling.view_appointment"
CHUNK = 500

# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
# Patient names come from the public booking form, so every text cell is guarded.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """The cell's text, with a leading apostrophe where a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _local(instant, visit: Appointment) -> str:
    return instant.astimezone(visit.location.zone).isoformat(timespec="minutes")


def _checks(visit: Appointment, confirmed: bool) -> str:
    checks = visit_checks(visit)
    items = checks.confirmed if confirmed else checks.items
    return "; ".join(str(item.label) for item in items)


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Appointment], object]


COLUMNS = [
    Column(_("Visit ID"), lambda visit: visit.pk),
    Column(_("Location"), lambda visit: visit.location.name),
    Column(_("Arrival"), lambda visit: _local(visit.arrival, visit)),
    Column(_("Procedure start"), lambda visit: _local(visit.procedure_start, visit)),
    Column(_("Procedure end"), lambda visit: _local(visit.procedure_end, visit)),
    Column(_("Discharge"), lambda visit: _local(visit.discharge, visit)),
    Column(_("Status"), lambda visit: visit.get_status_display()),
    Column(_("Patient"), lambda visit: visit.patient.full_name),
    Column(_("Date of birth"), lambda visit: visit.patient.date_of_birth.isoformat()),
    Column(_("Procedure code"), lambda visit: visit.procedure_type.code),
    Column(_("Procedure"), lambda visit: visit.procedure_type.name),
    Column(_("Physician"), lambda visit: visit.physician.name),
    Column(_("Room"), lambda visit: visit.room.name),
    Column(_("Checks needed"), lambda visit: _checks(visit, confirmed=False)),
    Column(_("Checks confirmed"), lambda visit: _checks(visit, confirmed=True)),
    Column(_("Cancellation reason"), lambda visit: visit.cancel_reason),
    Column(_("Notes"), lambda visit: visit.notes),
]


class _Echo:
    """A file that hands back what is written, for csv.writer to produce one line at a time."""

    def write(self, value: str) -> str:
        return value


def csv_lines(visits: Iterable[Appointment]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a byte-order mark, so that Excel reads the names' accents as UTF-8
    yield writer.writerow([str(column.header) for column in COLUMNS])
    for visit in visits:
        yield writer.writerow([csv_safe(column.value(visit)) for column in COLUMNS])


def csv_response(visits: Iterable[Appointment], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(visits), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def for_export(queryset):
    """Visits with everything a CSV line reads, fetched in chunks (a fixed number of queries per
    chunk, whatever the number of visits)."""
    return (queryset.select_related("location", "patient", "physician__user", "room", "procedure_type")
            .prefetch_related("patient__blood_thinners", "checks__confirmed_by")
            .iterator(chunk_size=CHUNK))


def day_export(request):
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    choice = day_choice(request.GET)
    if choice.errors:
        return HttpResponseBadRequest(" ".join(choice.errors), content_type="text/plain; charset=utf-8")
    # As on the staff's pages: cancelled visits only when asked for.
    visits = day_visits(location=choice.location, day=choice.day,
                        include_cancelled=request.GET.get("cancelled") == "1")
    filename = gettext("visits-%(day)s-location-%(location)s.csv") % {
        "day": choice.day.isoformat(), "location": choice.location.pk}
    return csv_response(visits.iterator(chunk_size=CHUNK), filename)


urlpatterns = [
    path("export.csv", admin.site.admin_view(day_export), name="export"),
]
