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
from collections.abc import Iterator
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext, gettext_lazy as _

from clinic.access_log import record_access, request_label
from clinic.models import BloodThinner, Location, Patient, Physician, ProcedureType, Room
from scheduling.admin.board.params import day_choice, wanted_id
from scheduling.models import AppointmentStatus, CheckKind, PreProcedureCheck
from scheduling.pathways.checks import needed_kinds, with_recorded
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


HEADERS = [
    _("Visit ID"), _("Location"), _("Arrival"), _("Procedure start"), _("Procedure end"), _("Discharge"),
    _("Status"), _("Patient"), _("Date of birth"), _("Procedure code"), _("Procedure"), _("Physician"), _("Room"),
    _("Checks needed"), _("Checks confirmed"), _("Cancellation reason"), _("Notes"),
]
_FIELDS = ["pk", "location_id", "arrival", "procedure_start", "procedure_end", "discharge", "status",
           "patient__first_name", "patient__last_name", "patient__date_of_birth", "procedure_type_id",
           "physician_id", "room_id", "patient_id", "cancel_reason", "notes"]


class _Echo:
    """A file that hands back what is written, for csv.writer to produce one line at a time."""

    def write(self, value: str) -> str:
        return value


def _chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def csv_lines(queryset) -> Iterator[str]:
    """The visits of `queryset` as CSV lines, a header first.

    Read as plain values in chunks of CHUNK, with two queries a chunk for the patients' blood
    thinners and the recorded checks: a model instance per row and per related row would cost
    most of the time of a month's export. Locations, rooms, physicians, procedure types and
    the hold table are few: read once. The checks come from the same rule as every page's
    (`scheduling.pathways.checks`).
    """
    words = {value: str(label) for value, label in (*AppointmentStatus.choices, *CheckKind.choices)}
    locations = {item.pk: (item.name, item.zone) for item in Location.objects.all()}
    rooms = dict(Room.objects.values_list("pk", "name"))
    physicians = {item.pk: item.name for item in Physician.objects.select_related("user")}
    procedure_types = {item.pk: item for item in ProcedureType.objects.all()}
    drugs = {item.pk: item for item in BloodThinner.objects.all()}
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a byte-order mark, so that Excel reads the names' accents as UTF-8
    yield writer.writerow([str(header) for header in HEADERS])
    rows = queryset.prefetch_related(None).values_list(*_FIELDS).iterator(chunk_size=CHUNK)
    for chunk in _chunks(rows, CHUNK):
        taken: dict[int, list] = {}
        for patient_id, drug_id in Patient.blood_thinners.through.objects.filter(
                patient_id__in={row[13] for row in chunk}).values_list("patient_id", "bloodthinner_id"):
            taken.setdefault(patient_id, []).append(drugs[drug_id])
        recorded: dict[int, dict[str, bool]] = {}
        for appointment_id, kind, confirmed_at in PreProcedureCheck.objects.filter(
                appointment_id__in=[row[0] for row in chunk]).values_list("appointment_id", "kind", "confirmed_at"):
            recorded.setdefault(appointment_id, {})[kind] = confirmed_at is not None
        for (pk, location_id, arrival, start, end, discharge, status, first_name, last_name, born, type_id,
             physician_id, room_id, patient_id, cancel_reason, notes) in chunk:
            location_name, zone = locations[location_id]
            procedure_type = procedure_types[type_id]
            done = recorded.get(pk, {})
            kinds = with_recorded(needed_kinds(procedure_type=procedure_type, drugs=taken.get(patient_id, ())), done)
            values = [
                pk, location_name,
                *(instant.astimezone(zone).isoformat(timespec="minutes") for instant in (arrival, start, end, discharge)),
                words[status], f"{first_name} {last_name}",  # as Patient.full_name
                born.isoformat(), procedure_type.code, procedure_type.name,
                physicians[physician_id], rooms[room_id],
                "; ".join(words[kind] for kind in kinds), "; ".join(words[kind] for kind in kinds if done.get(kind)),
                cancel_reason, notes,
            ]
            yield writer.writerow([csv_safe(value) for value in values])


def csv_response(request, queryset, filename: str) -> StreamingHttpResponse:
    """The visits as a CSV file; the patient access log records every patient in it."""
    record_access(request, queryset.order_by().values_list("patient_id", flat=True).distinct(),
                  request_label(request))
    response = StreamingHttpResponse(csv_lines(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def day_export(request):
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    choice = day_choice(request.GET)
    errors = list(choice.errors)
    # The same day as the board shows it: its physician or room, cancelled visits only when asked for.
    filters = {}
    for name in ("physician", "room"):
        wanted, error = wanted_id(request.GET, name)
        errors += [error] if error else []
        if wanted is not None:
            filters[f"{name}_id"] = wanted
    if errors:
        return HttpResponseBadRequest(" ".join(errors), content_type="text/plain; charset=utf-8")
    visits = day_visits(location=choice.location, day=choice.day,
                        include_cancelled=request.GET.get("cancelled") == "1").filter(**filters)
    filename = gettext("visits-%(day)s-location-%(location)s.csv") % {
        "day": choice.day.isoformat(), "location": choice.location.pk}
    return csv_response(request, visits, filename)


urlpatterns = [
    path("export.csv", admin.site.admin_view(day_export), name="export"),
]
