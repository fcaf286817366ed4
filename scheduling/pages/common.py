"""What every patient page shares: no caching, rate limits, the clinic's zone, the visitor's hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from clinic.models import Location
from scheduling.pathways.holds import blood_thinner_holds, preparation_lines
from scheduling.errors import BookingError, SlotUnavailable
from scheduling.pages.errors import patient_message, problem
from scheduling.pages.picker import Search, alternatives, parse_week, week_notice, week_of
from scheduling.services.holds import new_hold_key

HOLD_SESSION_KEY = "interval.hold"


def _search_rate(group, request) -> str:
    return settings.BOOKING_SEARCH_RATE


def _submit_rate(group, request) -> str:
    return settings.BOOKING_SUBMIT_RATE


def _hold_rate(group, request) -> str:
    return settings.BOOKING_HOLD_RATE


def holds_time(view: Callable) -> Callable:
    """A page whose POST holds a time: a client may hold only BOOKING_HOLD_RATE of them, so that
    no one can keep the calendar blocked by picking times they never book."""
    return ratelimit(group="booking-hold", key="ip", rate=_hold_rate, method="POST", block=True)(view)


def patient_page(view: Callable) -> Callable:
    """A patient page: never stored by browsers or proxies (it can show health details), and
    rate-limited per client: searches (GET) and submissions (POST) each have their own limit."""
    view = ratelimit(group="booking-submit", key="ip", rate=_submit_rate, method="POST", block=True)(view)
    view = ratelimit(group="booking-search", key="ip", rate=_search_rate, method="GET", block=True)(view)
    return never_cache(view)


def render_local(request: HttpRequest, template: str, context: dict, location: Location,
                 status: int = 200) -> HttpResponse:
    """Render with times shown in the location's zone."""
    with timezone.override(location.zone):
        return render(request, template, {"clinic": location, **context}, status=status)


def is_partial(request: HttpRequest) -> bool:
    """The picker's script asks for the week alone, to swap it in without reloading the page."""
    return request.headers.get("X-Interval-Partial") == "week"


def render_week(request: HttpRequest, template: str, context: dict, search: Search) -> HttpResponse:
    """The picker on the week in `context`, saying why when it is not the week a link asked for."""
    context = {**context, "week_notice": week_notice(request.GET.get("week"), search, timezone.now())}
    if is_partial(request):
        return render_local(request, "pages/_week.html", context, search.location)
    return render_local(request, template, context, search.location)


def current_hold_key(request: HttpRequest) -> str:
    """The visitor's hold key if they have one: their own hold does not hide the time from them."""
    return request.session.get(HOLD_SESSION_KEY, "")


def hold_key(request: HttpRequest) -> str:
    """The visitor's hold key, made on first use and kept in their session (never in a URL)."""
    key = request.session.get(HOLD_SESSION_KEY)
    if not key:
        key = request.session[HOLD_SESSION_KEY] = new_hold_key()
    return key


def preparation(appointment_or_hold, patient=None) -> dict:
    """What the patient must do before the visit: fasting, driver, blood-thinner last doses."""
    procedure_type = appointment_or_hold.procedure_type
    day = appointment_or_hold.procedure_start.astimezone(appointment_or_hold.location.zone).date()
    holds = blood_thinner_holds(patient=patient, procedure_type=procedure_type, procedure_day=day) if patient else []
    return {"preparation": preparation_lines(procedure_type), "holds": [hold.instruction() for hold in holds]}





def pick_again(request: HttpRequest) -> HttpResponse:
    """A time sent back that no page offered (missing, forged, or outside the days allowed)."""
    return problem(request, _("Please pick a time again."), status=400, title=_("Something was missing"))


def render_taken(request: HttpRequest, context: dict, search: Search, wanted: dt.datetime,
                 error: BookingError | None = None) -> HttpResponse:
    """The picker again, on the week of a time that could not be held, with the nearest free ones,
    and why (taken, unless the service said otherwise: too soon to book online, say)."""
    now = timezone.now()
    week = week_of(search, parse_week(wanted.astimezone(search.location.zone).date().isoformat(), search, now), now)
    return render_local(request, "pages/times.html", {
        **context, "week": week, "alternatives": alternatives(search, wanted, now),
        "taken": _("Sorry, that time has just been taken. Here are the nearest free times.")
        if error is None or isinstance(error, SlotUnavailable) else patient_message(error),
    }, search.location, status=409)
