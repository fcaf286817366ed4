"""The day board (`/admin/board/`), the physician's day, the nurse's procedure-and-recovery view,
and the cheap "did anything change?" question the board's script asks.

The views parse the query string (a bad value is a page that says so, never an error 500), ask
`scheduling.board` for the day, and draw it. Everything works with links and GET forms; the
script only refreshes the board and opens a visit without a reload.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.models import Physician, Room
from scheduling.admin.board.actions import actions_for
from scheduling.admin.board.params import DayQuery, QuickSelect
from scheduling.board import STATUS_SHORT, DayBoard, board_fingerprint, day_board, earlier_outcomes, selected_visit
from scheduling.careplans.selectors import own_plans_waiting_count, plans_waiting_count
from scheduling.models import Appointment, AppointmentStatus
from scheduling.selectors import day_closure
from scheduling.stranded import attention_count


VIEW_PERMISSION = "scheduling.view_appointment"
REFRESH_SECONDS = 30
# The part of each page the script swaps in when the day changed or a visit is opened.
FRAGMENTS = {"admin/board/day.html": "admin/board/_board.html", "admin/board/my_day.html": "admin/board/_my_day.html",
             "admin/board/recovery.html": "admin/board/_recovery.html"}


class BoardQuery(DayQuery):
    """The board's query string: the location and day, and what of the day to show. Every field
    is optional; the defaults are the first location and today there."""

    physician = forms.ModelChoiceField(
        queryset=Physician.objects.filter(is_active=True).select_related("user"), required=False, widget=QuickSelect,
        label=gettext_lazy("Physician"), empty_label=gettext_lazy("All physicians"),
        error_messages={"invalid_choice": gettext_lazy("There is no such physician; choose one from the list.")})
    room = forms.ModelChoiceField(
        queryset=Room.objects.all(), required=False, widget=QuickSelect, label=gettext_lazy("Room"), empty_label=gettext_lazy("All rooms"),
        error_messages={"invalid_choice": gettext_lazy("There is no such room; choose one from the list.")})
    cancelled = forms.BooleanField(required=False, label=gettext_lazy("Show cancelled visits"))
    lanes = forms.ChoiceField(
        required=False, label=gettext_lazy("Lanes"),
        choices=[("rooms", gettext_lazy("Rooms")), ("physicians", gettext_lazy("Physicians"))])
    visit = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput,
                               error_messages={"invalid": gettext_lazy("A visit is given by its number.")})

    def clean(self):
        cleaned = super().clean()
        location, room = cleaned.get("location"), cleaned.get("room")
        if room is not None and location is not None and room.location_id != location.pk:
            self.add_error("room", _("%(room)s is not at %(location)s.") % {"room": room.name,
                                                                            "location": location.name})
        return cleaned

    def params(self, **changes) -> dict[str, str]:
        """The query string of this board with `changes` (None removes a key)."""
        cleaned = self.cleaned_data
        values = {
            "location": cleaned["location"].pk,
            "date": cleaned["date"].isoformat(),
            "physician": cleaned["physician"].pk if cleaned.get("physician") else None,
            "room": cleaned["room"].pk if cleaned.get("room") else None,
            "cancelled": "1" if cleaned.get("cancelled") else None,
            "lanes": cleaned.get("lanes") if cleaned.get("lanes") == "physicians" else None,
            "visit": cleaned.get("visit"),
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "")}


def _controls(query: BoardQuery, rooms=None) -> BoardQuery:
    """The controls as they should show this board: the defaults filled in, rooms of its location
    (`rooms`: the board's, read already)."""
    shown = BoardQuery(initial={key: value for key, value in query.cleaned_data.items() if value is not None})
    if rooms is None:
        rooms = Room.objects.filter(location=query.cleaned_data["location"]).order_by("name")
    # Plain lists, read with one ordinary query each: a model choice field reads its choices
    # through a server-side cursor (several round trips each) on PostgreSQL.
    for name, objects, label in (("location", shown.fields["location"].queryset, str),
                                 ("physician", shown.fields["physician"].queryset, str),
                                 ("room", rooms, lambda room: room.name)):
        field = shown.fields[name]
        empty = [("", field.empty_label)] if field.empty_label is not None else []
        field.choices = empty + [(each.pk, label(each)) for each in objects]
    return shown


def _page_context(request: HttpRequest) -> dict:
    """`admin.site.each_context` without the list of apps and models: these pages leave out the
    sidebar that shows it (`nav-sidebar` in _page.html), and building it asks every model admin
    for the user's permissions, some 3 ms of a board's request."""
    site = admin.site
    script_name = request.META["SCRIPT_NAME"]
    return {
        "site_title": site.site_title,
        "site_header": site.site_header,
        "site_url": script_name if site.site_url == "/" and script_name else site.site_url,
        "has_permission": site.has_permission(request),
        "available_apps": [],
        "is_popup": False,
        "is_nav_sidebar_enabled": site.enable_nav_sidebar,
        "log_entries": site.get_log_entries(request),
    }


def _query(params: dict) -> str:
    return "?" + urlencode(params)


def _require_view(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied


def needs_attention_count(location, *, user, now) -> int:
    """The count on the Needs attention tab: the location's stranded visits, and the care plans
    waiting for this user's decision."""
    return (attention_count(location, now=now) if location is not None else 0) + plans_waiting_count(user=user)


def _invalid(request: HttpRequest, query: BoardQuery, template: str, title: str) -> TemplateResponse:
    return TemplateResponse(request, template, {
        **_page_context(request), "title": title, "query": query, "invalid": True,
    }, status=400)


def _links(query: BoardQuery, path_name: str) -> dict:
    """Links of the board's controls, each a plain GET link."""
    day = query.cleaned_data["date"]
    location = query.cleaned_data["location"]
    today = timezone.now().astimezone(location.zone).date()
    without_visit = query.params(visit=None)
    return {
        "previous_url": _query({**without_visit, "date": (day - dt.timedelta(days=1)).isoformat()}),
        "next_url": _query({**without_visit, "date": (day + dt.timedelta(days=1)).isoformat()}),
        "today_url": _query({**without_visit, "date": today.isoformat()}) if day != today else "",
        "room_lanes_url": _query(query.params(lanes=None)),
        "physician_lanes_url": _query(query.params(lanes="physicians")),
        "cancelled_url": _query(query.params(cancelled=None if query.cleaned_data.get("cancelled") else "1",
                                             visit=None)),
        "visit_base": _query(without_visit) + "&visit=",
        "filter_base": _query(query.params(visit=None, room=None, physician=None)) + "&",
        "clear_filters_url": _query(query.params(visit=None, room=None, physician=None)),
        "close_visit_url": _query(without_visit),
        "changes_url": reverse("board:changes") + _query({"location": location.pk, "date": day.isoformat()}),
        "board_url": reverse(path_name),
        "refresh_seconds": REFRESH_SECONDS,
        "self_url": _query(query.params()),
        # The printed sheets and the CSV of the same day (and physician or room) are their own pages.
        "print_query": _query({**query.params(visit=None, cancelled=None, lanes=None),
                               "next": reverse(path_name) + _query(query.params(visit=None))}),
        "export_query": _query(query.params(visit=None, lanes=None)),
    }


def _selected(request: HttpRequest, board: DayBoard, visit_id: int | None, now: dt.datetime) -> dict:
    if visit_id is None:
        return {}
    visit = selected_visit(board, visit_id)
    if visit is None or visit.appointment is None:
        return {"visit_missing": visit_id}
    return {"selected": visit, "actions": actions_for(request.user, visit.appointment, now=now)}


def _board_page(request: HttpRequest, *, template: str, path_name: str, title: str,
                physician_from_user: bool = False) -> TemplateResponse:
    _require_view(request)
    query = BoardQuery(request.GET)
    if not query.is_valid():
        return _invalid(request, query, template, title)
    cleaned = query.cleaned_data
    now = timezone.now()
    visit_id = cleaned.get("visit")
    physician = cleaned.get("physician")
    if physician_from_user and physician is None:
        physician = Physician.objects.filter(user=request.user).select_related("user").first()
        if physician is None:
            return TemplateResponse(request, template, {
                **_page_context(request), "title": title, "query": _controls(query), "not_a_physician": True,
                **_links(query, path_name)})
        # The controls show whose day it is, not "All physicians".
        cleaned["physician"] = physician
    board = day_board(location=cleaned["location"], day=cleaned["date"], now=now, physician=physician,
                      room=cleaned.get("room"), include_cancelled=bool(cleaned.get("cancelled")),
                      offer_times=template == "admin/board/day.html")
    visit_unknown = False
    if visit_id is not None and board.visit(visit_id) is None:
        # A visit of another day or location (a link from elsewhere): show it on its own day.
        appointment = Appointment.objects.filter(pk=visit_id).select_related("location").first()
        visit_unknown = appointment is None
        if appointment is not None and appointment.location.is_active and not cleaned.get("cancelled"):
            day = appointment.procedure_start.astimezone(appointment.location.zone).date()
            if (appointment.location_id, day) != (cleaned["location"].pk, cleaned["date"]):
                return redirect(reverse(path_name) + _query(query.params(
                    location=appointment.location_id, date=day.isoformat(), room=None, physician=None,
                    cancelled="1" if appointment.status == "cancelled" else None)))
    add_url = reverse("admin:scheduling_appointment_add")
    for lane in board.room_lanes:
        for offer in lane.offers:
            offer.url = add_url + _query({
                "location": board.location.pk, "physician": offer.physician.pk, "room": offer.room.pk,
                "start": offer.start.isoformat()})
    context = {
        **_page_context(request),
        "title": title,
        "subtitle": None,
        "query": _controls(query, board.rooms),
        "board": board,
        "physician": physician,
        "show_physician_lanes": cleaned.get("lanes") == "physicians",
        "can_add": request.user.has_perm("scheduling.add_appointment"),
        "statuses": [(value, label, STATUS_SHORT[value]) for value, label in AppointmentStatus.choices],
        "fingerprint": board.fingerprint,
        # Stranded visits here (cached a minute) and the care plans waiting for the user's decision.
        "attention_count": needs_attention_count(board.location, user=request.user, now=now),
        "closure": day_closure(location=board.location, day=board.day),
        **_links(query, path_name),
        **_selected(request, board, visit_id, now),
        "visit_unknown": visit_unknown,
    }
    if physician_from_user:
        context["plans_waiting"] = own_plans_waiting_count(physician)
        outcomes = earlier_outcomes(patient_ids=[visit.patient_id for visit in board.visits], before=board.opens)
        for visit in board.visits:
            visit.earlier_outcomes = outcomes.get(visit.patient_id, [])
    fragment = request.headers.get("X-Board-Fragment") == "1"
    return TemplateResponse(request, FRAGMENTS[template] if fragment else template, context)


def board_view(request: HttpRequest) -> TemplateResponse:
    return _board_page(request, template="admin/board/day.html", path_name="board:day", title=_("Day board"))


def my_day_view(request: HttpRequest) -> TemplateResponse:
    return _board_page(request, template="admin/board/my_day.html", path_name="board:my_day", title=_("My day"),
                       physician_from_user=True)


def recovery_view(request: HttpRequest) -> TemplateResponse:
    return _board_page(request, template="admin/board/recovery.html", path_name="board:recovery",
                       title=_("Procedures and recovery"))


def changes_view(request: HttpRequest) -> JsonResponse:
    """The day's fingerprint; the board reloads its lanes when it differs from the one it shows."""
    _require_view(request)
    query = BoardQuery(request.GET)
    if not query.is_valid():
        return JsonResponse({"errors": {field: [str(e) for e in errors] for field, errors in query.errors.items()}},
                            status=400)
    fingerprint = board_fingerprint(location=query.cleaned_data["location"], day=query.cleaned_data["date"])
    return JsonResponse({"fingerprint": fingerprint}, headers={"Cache-Control": "no-store"})


urlpatterns = [
    path("", admin.site.admin_view(board_view), name="day"),
    path("changes/", admin.site.admin_view(changes_view), name="changes"),
    path("my-day/", admin.site.admin_view(my_day_view), name="my_day"),
    path("recovery/", admin.site.admin_view(recovery_view), name="recovery"),
]
