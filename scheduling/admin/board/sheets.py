"""Printable day sheets: a location's day for one physician, one room, or all of them (one
page each), as a plain page without the admin's navigation, laid out for Letter and A4.

`/admin/board/print/?location=ID&date=YYYY-MM-DD` with `&physician=ID` or `&room=ID`, or
`&by=room` for every room (every physician is the default).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext

from clinic.access_log import record_access, request_label
from clinic.models import Physician, Room
from scheduling.admin.board.actions import back_label, safe_back
from scheduling.admin.board.params import day_choice, wanted_id
from scheduling.admin.board.states import VisitState, status_state
from scheduling.models import Appointment
from scheduling.pathways.checks import VisitChecks, visit_checks
from scheduling.selectors import day_visits

VIEW_PERMISSION = "scheduling.view_appointment"


@dataclass(frozen=True)
class SheetLine:
    visit: Appointment
    arrival: dt.datetime
    start: dt.datetime
    end: dt.datetime
    status: VisitState
    checks: VisitChecks


@dataclass(frozen=True)
class Sheet:
    title: str  # the physician's or the room's name
    lines: list[SheetLine]


def _line(visit: Appointment) -> SheetLine:
    zone = visit.location.zone
    return SheetLine(visit=visit, arrival=visit.arrival.astimezone(zone), start=visit.procedure_start.astimezone(zone),
                     end=visit.procedure_end.astimezone(zone), status=status_state(visit), checks=visit_checks(visit))


def _sort_key(visit: Appointment, by: str) -> tuple:
    """Rooms by name; physicians by last name, as a clinic lists them."""
    if by == "room":
        return (visit.room.name.lower(), visit.room_id)
    user = visit.physician.user
    return (user.last_name.lower(), user.first_name.lower(), visit.physician_id)


def day_sheets(request):
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    choice = day_choice(request.GET)
    errors = list(choice.errors)
    physician_id, error = wanted_id(request.GET, "physician")
    errors += [error] if error else []
    room_id, error = wanted_id(request.GET, "room")
    errors += [error] if error else []
    physician = room = None
    if physician_id is not None and not errors:
        physician = Physician.objects.select_related("user").filter(pk=physician_id).first()
        if physician is None:
            errors.append(gettext("There is no physician with ID %(id)s.") % {"id": physician_id})
    if room_id is not None and not errors:
        room = Room.objects.filter(pk=room_id, location=choice.location).first()
        if room is None:
            errors.append(gettext("There is no room with ID %(id)s at %(location)s.") % {
                "id": room_id, "location": choice.location.name})
    back_url = safe_back(request, reverse("board:day") + (f"?{choice.query}" if choice.location else ""))
    by = "room" if room is not None or request.GET.get("by") == "room" else "physician"
    sheets: list[Sheet] = []
    physicians, rooms = [], []
    if not errors:
        visits = list(day_visits(location=choice.location, day=choice.day))
        # The day's physicians and rooms, for links to each one's sheet.
        physicians = [visit.physician for visit in sorted({visit.physician_id: visit for visit in visits}.values(),
                                                          key=lambda visit: _sort_key(visit, "physician"))]
        rooms = [visit.room for visit in sorted({visit.room_id: visit for visit in visits}.values(),
                                                key=lambda visit: _sort_key(visit, "room"))]
        if physician is not None:
            visits = [visit for visit in visits if visit.physician_id == physician.pk]
        if room is not None:
            visits = [visit for visit in visits if visit.room_id == room.pk]
        groups: dict[int, list[Appointment]] = {}
        for visit in visits:
            groups.setdefault(visit.room_id if by == "room" else visit.physician_id, []).append(visit)
        ordered = sorted(groups.values(), key=lambda group: _sort_key(group[0], by))
        sheets = [Sheet(title=(group[0].room.name if by == "room" else group[0].physician.name),
                        lines=[_line(visit) for visit in group]) for group in ordered]
        record_access(request, (visit.patient_id for visit in visits), request_label(request))
        if not sheets and (physician or room):
            sheets = [Sheet(title=(physician or room).name, lines=[])]  # whose day it is, even if empty
    return TemplateResponse(request, "admin/board/print.html", {
        "choice": choice,
        "errors": errors,
        "sheets": sheets,
        "by": by,
        "physicians": physicians,
        "rooms": rooms,
        "printed_at": timezone.now().astimezone(choice.location.zone) if choice.location else None,
        "site_header": admin.site.site_header,
        # Back to the page the sheet was opened from (the board or the arrivals desk), else the board.
        "back_url": back_url,
        "back_label": back_label(back_url),
        "back_query": "&" + urlencode({"next": back_url}),
    }, status=400 if errors else 200)


urlpatterns = [
    path("print/", admin.site.admin_view(day_sheets), name="print"),
]
