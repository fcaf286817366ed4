"""The arrivals desk: a location's visits of one day in arrival order, where each patient is
in their day (expected, late, checked in, in procedure, in recovery, done), the checks each
visit needs and has, and what the user may do next."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext

from scheduling.admin.board.actions import VisitAction, actions_for
from scheduling.admin.board.day import needs_attention_count
from scheduling.admin.board.params import day_choice
from scheduling.admin.board.states import ARRIVAL_STATES, VisitState, arrival_state
from scheduling.board import Flag, visit_flags
from scheduling.models import Appointment
from scheduling.pathways.holds import hold_notice_days
from scheduling.pathways.checks import VisitChecks, visit_checks
from scheduling.selectors import day_closure, day_visits

VIEW_PERMISSION = "scheduling.view_appointment"


@dataclass(frozen=True)
class ArrivalRow:
    visit: Appointment
    arrival: dt.datetime  # in the location's zone, like every time below
    start: dt.datetime
    end: dt.datetime
    state: VisitState
    checks: VisitChecks
    actions: list[VisitAction]
    flags: list[Flag]


def arrival_rows(user, visits, *, now: dt.datetime) -> list[ArrivalRow]:
    visits = list(visits)
    # The board's flags, by the board's rule; the day's hold messages in one query.
    hold_notices = hold_notice_days([visit for visit in visits if visit.patient.blood_thinners.all()])
    rows = []
    for visit in visits:
        zone = visit.location.zone
        checks = visit_checks(visit)
        rows.append(ArrivalRow(
            visit=visit, arrival=visit.arrival.astimezone(zone), start=visit.procedure_start.astimezone(zone),
            end=visit.procedure_end.astimezone(zone), state=arrival_state(visit, now=now), checks=checks,
            actions=actions_for(user, visit, now=now, checks=checks),
            flags=visit_flags(visit, now=now, zone=zone, hold_notices=hold_notices),
        ))
    return rows


def arrivals(request):
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    choice = day_choice(request.GET)
    show_cancelled = request.GET.get("cancelled") == "1"
    now = timezone.now()
    rows = []
    if choice.location is not None:
        visits = day_visits(location=choice.location, day=choice.day, include_cancelled=show_cancelled)
        rows = arrival_rows(request.user, visits, now=now)
    counts = {state.key: 0 for state in ARRIVAL_STATES}
    for row in rows:
        counts[row.state.key] += 1
    today = now.astimezone(choice.location.zone).date() if choice.location else None
    return TemplateResponse(request, "admin/board/arrivals.html", {
        **admin.site.each_context(request),
        "title": gettext("Arrivals"),
        "choice": choice,
        "rows": rows,
        "summary": [(state, counts[state.key]) for state in ARRIVAL_STATES if counts[state.key]],
        "show_cancelled": show_cancelled,
        "today": today,
        "previous_day": choice.day - dt.timedelta(days=1) if choice.day else None,
        "next_day": choice.day + dt.timedelta(days=1) if choice.day else None,
        "now_local": now.astimezone(choice.location.zone) if choice.location else None,
        "here": request.get_full_path(),
        "closure": day_closure(location=choice.location, day=choice.day) if choice.location else None,
        "attention_count": needs_attention_count(choice.location, user=request.user, now=now),
    }, status=400 if choice.errors else 200)


urlpatterns = [
    path("arrivals/", admin.site.admin_view(arrivals), name="arrivals"),
]
