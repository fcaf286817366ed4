"""Public booking: the start page, the week picker, the details form and the confirmation;
and booking an ordered procedure from the link the clinic sends.

A picked time is held for ten minutes (a SlotHold under a key kept in the visitor's session)
while the form is filled in. Nothing about the patient goes in a URL: choices are POSTed and
the booking in progress lives in the session.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinic.models import Location, Physician, ProcedureType
from scheduling import services
from scheduling.errors import BookingError, SlotUnavailable
from scheduling.models import ACTIVE_STATUSES, Appointment, SlotHold
from scheduling.pages import fill_time
from scheduling.pages.common import (
    current_hold_key,
    hold_key,
    holds_time,
    patient_page,
    pick_again,
    preparation,
    render_local,
    render_taken,
    render_week,
)
from scheduling.pages.errors import patient_message, problem
from scheduling.pages.forms import DetailsForm
from scheduling.pages.picker import Search, alternatives, parse_choice, parse_week, physicians_for, week_of
from scheduling.pathways.bookable_days import bookable_days
from scheduling.pathways.holds import preparation_lines
from scheduling.reminders.links import LinkInvalid, link, order_for
from scheduling.reminders.outbox import channel_for
from scheduling.reminders.links import path as visit_path
from scheduling.selectors import locations_offering
from scheduling.services.holds import HOLD_MINUTES
from scheduling.services.patients import patient_language_use

BOOKING_SESSION_KEY = "interval.booking"
BOOKED_SESSION_KEY = "interval.booked"
DONE_SECONDS = 30 * 60


def _language(request: HttpRequest) -> str:
    code = (getattr(request, "LANGUAGE_CODE", "") or "en")[:2]
    return code if code in dict(settings.LANGUAGES) else "en"


def _pick(queryset, value: str | None):
    """The row whose id is `value`, or None for a missing or malformed value."""
    try:
        return queryset.filter(pk=int(value)).first() if value else None
    except ValueError:
        return None


def _public_search(request: HttpRequest, params) -> tuple[Search, list, list] | None:
    procedure_type = ProcedureType.objects.filter(code=params.get("visit", ""), self_bookable=True,
                                                  is_active=True).first()
    if procedure_type is None:
        return None
    locations = list(locations_offering(procedure_type))
    if not locations:
        return None
    location = _pick(locations_offering(procedure_type), params.get("location")) or locations[0]
    physicians = list(physicians_for(procedure_type, location))
    physician = next((p for p in physicians if str(p.pk) == params.get("physician")), None)
    search = Search(procedure_type=procedure_type, location=location, physician=physician,
                    hold_key=current_hold_key(request))
    return search, locations, physicians


@patient_page
def start(request: HttpRequest) -> HttpResponse:
    locations = list(Location.objects.filter(is_active=True).order_by("name"))
    visit_types = ProcedureType.objects.filter(self_bookable=True, is_active=True).order_by("name")
    clinic = locations[0] if locations else None
    return render_local(request, "pages/start.html", {"locations": locations, "visit_types": visit_types},
                        clinic) if clinic else problem(request, _("Online booking is not open yet."), status=503,
                                                        title=_("Booking"))


def _picker_context(search: Search, week, locations, physicians, **extra) -> dict:
    return {"week": week, "search": search, "locations": locations, "physicians": physicians,
            "hold_url": reverse("book-hold"), "picker_url": reverse("book-times"),
            "visit_code": search.procedure_type.code, **extra}


@patient_page
def times(request: HttpRequest) -> HttpResponse:
    found = _public_search(request, request.GET)
    if found is None:
        return problem(request, _("That visit type cannot be booked online. Please start again from the booking "
                                  "page or call us."), status=404, title=_("Visit not found"))
    search, locations, physicians = found
    now = timezone.now()
    week = week_of(search, parse_week(request.GET.get("week"), search, now), now)
    return render_week(request, "pages/times.html", _picker_context(search, week, locations, physicians), search)


@require_POST
@patient_page
@holds_time
def hold(request: HttpRequest) -> HttpResponse:
    found = _public_search(request, request.POST)
    choice = parse_choice(request.POST.get("choice", ""))
    if found is None or choice is None:
        return pick_again(request)
    search, locations, physicians = found
    start_at, physician_id = choice
    physician = Physician.objects.filter(pk=physician_id).first()
    if physician is None:
        return pick_again(request)
    try:
        held = services.slot_hold(key=hold_key(request), procedure_type=search.procedure_type, physician=physician,
                                  start=start_at)
    except BookingError as error:
        return render_taken(request, _picker_context(search, None, locations, physicians), search, start_at, error)
    request.session[BOOKING_SESSION_KEY] = {"hold": held.pk}
    return redirect("book-details")


def _current_hold(request: HttpRequest) -> SlotHold | None:
    booking = request.session.get(BOOKING_SESSION_KEY) or {}
    return SlotHold.objects.select_related("location", "physician", "procedure_type").filter(
        pk=booking.get("hold"), key=current_hold_key(request)).first()


@require_http_methods(["GET", "POST"])
@patient_page
def details(request: HttpRequest) -> HttpResponse:
    held = _current_hold(request)
    if held is None or not held.procedure_type.self_bookable:  # an ordered procedure's hold is booked from its link
        booked = _just_booked(request) if request.method == "POST" else None
        if booked:
            if request.POST.get("held") != str(booked.get("hold")):
                messages.info(request, _("This form was not sent: you booked the visit below in another window."))
            return redirect("book-done")  # else the form sent twice: the first one booked it
        messages.info(request, _("Please pick a time first."))
        return redirect("book-start")
    location = held.location
    search = Search(procedure_type=held.procedure_type, location=location, hold_key=held.key)
    form = DetailsForm(request.POST or None, filled_in_by_a_person=lambda form_id: fill_time.filled_in_by_a_person(
        request, form_id, held=request.POST.get("held", "")))
    context = {"held": held, "form": form, "hold_minutes": HOLD_MINUTES,
               "expired": held.expires_at <= timezone.now(), "alternatives": [],
               "change_url": f"{reverse('book-times')}?visit={held.procedure_type.code}&location={location.pk}"}
    if request.method == "POST" and request.POST.get("held") != str(held.pk):
        # The form shows another time than the one held now: another window picked a new one
        # since. Book nothing; show the time held now, with free times near the form's own.
        shown = _shown_time(request.POST.get("shown"))
        context.update(changed=_("You picked another time in another window since this page was shown. Your time "
                                 "is now the one above: send the form to book it, or pick one of these times."),
                       alternatives=alternatives(search, shown or held.procedure_start, timezone.now()))
        form.is_valid()  # keep what was typed, with its errors
        return _render_details(request, context, status=409)
    if request.method == "POST":
        choice = parse_choice(request.POST.get("choice", ""))
        if form.is_valid():
            data = form.cleaned_data
            try:
                if choice is not None:  # a different time picked after the first one was taken
                    start_at, physician_id = choice
                    held = services.slot_hold(key=held.key, procedure_type=held.procedure_type,
                                              physician=Physician.objects.get(pk=physician_id), start=start_at)
                    request.session[BOOKING_SESSION_KEY] = {"hold": held.pk}
                    context["held"] = held
                appointment = services.online_booking_make(
                    hold=held, first_name=data["first_name"], last_name=data["last_name"],
                    date_of_birth=data["date_of_birth"], phone=data["phone"], email=data["email"],
                    sms_consent=data["sms_consent"], email_consent=data["email_consent"],
                    language=_language(request), note=data["note"])
            except (BookingError, Physician.DoesNotExist) as error:
                wanted = choice[0] if choice else held.procedure_start
                context["taken"] = _("Sorry, that time was taken while you were filling in the form. Your details "
                                     "are kept: pick one of these times and send the form again.") if isinstance(
                    error, (SlotUnavailable, Physician.DoesNotExist)) else patient_message(error)
                context["alternatives"] = alternatives(search, wanted, timezone.now())
                return _render_details(request, context, status=409)
            request.session.pop(BOOKING_SESSION_KEY, None)
            # What the page says about messages follows what was ticked here, not any stored
            # record, so it cannot tell whether the patient was already known.
            _remember_booking(request, appointment, messages_allowed=bool(
                (data["sms_consent"] and data["phone"]) or (data["email_consent"] and data["email"])), hold=held.pk)
            return redirect("book-done")
    return _render_details(request, context, status=400 if form.errors else 200)


def _render_details(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    """The details form, with a new `started` id each time it is shown (a sent one is used up)."""
    context["started"] = fill_time.form_shown(request, context["held"])
    return render_local(request, "pages/details.html", context, context["held"].location, status=status)


def _remember_booking(request: HttpRequest, appointment: Appointment, *, messages_allowed: bool,
                      hold: int | None = None) -> None:
    request.session[BOOKED_SESSION_KEY] = {"id": appointment.pk, "at": timezone.now().timestamp(),
                                           "messages": messages_allowed, "hold": hold}


def _shown_time(value: str | None) -> dt.datetime | None:
    """The time a details form showed (its `shown` field: seconds since the epoch), if readable."""
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.timezone.utc) if value else None
    except (ValueError, OverflowError, OSError):
        return None


def _just_booked(request: HttpRequest) -> dict | None:
    """The booking this browser made in the last half hour, if any: the confirmation page shows
    it, and only for that long (a shared computer)."""
    booked = request.session.get(BOOKED_SESSION_KEY)
    if not isinstance(booked, dict) or timezone.now().timestamp() - booked.get("at", 0) > DONE_SECONDS:
        return None
    return booked


def confirmation_context(appointment: Appointment) -> dict:
    return {
        "appointment": appointment,
        "manage_url": visit_path(appointment, "manage"),
        "manage_link": link(appointment, "manage"),
        "calendar_url": visit_path(appointment, "manage", "visit-calendar"),
        "sends_messages": channel_for(appointment.patient) is not None,
        **preparation(appointment, appointment.patient),
    }


@patient_page
def done(request: HttpRequest) -> HttpResponse:
    booked = _just_booked(request)
    appointment = Appointment.objects.select_related("location", "procedure_type", "patient", "physician").filter(
        pk=booked["id"]).first() if booked else None
    if appointment is None:
        return redirect("book-start")
    context = {**confirmation_context(appointment), "sends_messages": booked.get("messages", False)}
    return render_local(request, "pages/done.html", context, appointment.location)


# ---- An ordered procedure, from the clinic's link -------------------------------------------

def _booked_visit(order) -> Appointment | None:
    return order.appointments.filter(status__in=ACTIVE_STATUSES).select_related(
        "location", "physician", "procedure_type").first()


def _order_booked(request: HttpRequest, order, appointment: Appointment) -> HttpResponse:
    """The order's visit, to read only. The order link lives for ORDER_LINK_DAYS while a visit's
    own links stop working when it moves: a page that could cancel or move from here would
    outlive every link the patient was sent since."""
    return render_local(request, "pages/order_booked.html",
                        {"appointment": appointment, **preparation(appointment, order.patient)}, appointment.location)


def _order_search(request: HttpRequest, token: str, params) -> tuple | HttpResponse:
    try:
        order = order_for(token)
    except LinkInvalid as error:
        return problem(request, str(error), status=410)
    booked = _booked_visit(order)
    if booked is not None:
        return _order_booked(request, order, booked)
    procedure_type = order.procedure_type
    locations = list(locations_offering(procedure_type))
    if not locations:
        return problem(request, _("This procedure cannot be booked online at the moment."), status=409,
                       title=_("Please call us"))
    location = _pick(locations_offering(procedure_type), params.get("location")) or locations[0]
    physicians = list(physicians_for(procedure_type, location))
    physician = next((p for p in physicians if str(p.pk) == params.get("physician")), None)
    # A patient on a blood thinner is offered only days they can still stop it for, and only days
    # the rules allow: the days the booking service accepts.
    days = bookable_days(patient=order.patient, procedure_type=procedure_type, location=location,
                         now=timezone.now(), by_patient=True, order=order)
    if days.first is None:
        return problem(request, _("This procedure cannot be booked online yet. Please call us and we will find a "
                                  "time with you."), status=409, title=_("Please call us"))
    search = Search(procedure_type=procedure_type, location=location, physician=physician, patient=order.patient,
                    hold_key=current_hold_key(request), days=days)
    return order, search, locations, physicians


def _order_picker_context(token: str, order, search: Search, week, locations, physicians, **extra) -> dict:
    return {**_picker_context(search, week, locations, physicians, **extra),
            "hold_url": reverse("book-order", args=[token]), "picker_url": reverse("book-order", args=[token]),
            "order": order, "preparation": preparation_lines(order.procedure_type)}


@require_http_methods(["GET", "POST"])
@patient_page
@holds_time
def order(request: HttpRequest, token: str) -> HttpResponse:
    found = _order_search(request, token, request.POST if request.method == "POST" else request.GET)
    if isinstance(found, HttpResponse):
        return found
    order, search, locations, physicians = found
    now = timezone.now()
    if request.method == "POST":
        choice = parse_choice(request.POST.get("choice", ""))
        physician = Physician.objects.filter(pk=choice[1]).first() if choice else None
        if physician is None or not search.allows(choice[0]):
            return pick_again(request)
        try:
            held = services.slot_hold(key=hold_key(request), procedure_type=order.procedure_type, physician=physician,
                                      start=choice[0], patient=order.patient)
        except BookingError as error:
            return render_taken(request, _order_picker_context(token, order, search, None, locations, physicians),
                                search, choice[0], error)
        request.session[BOOKING_SESSION_KEY] = {"hold": held.pk, "order": order.pk}
        return redirect("book-order-confirm", token=token)
    week = week_of(search, parse_week(request.GET.get("week"), search, now), now)
    return render_week(request, "pages/times.html",
                       _order_picker_context(token, order, search, week, locations, physicians), search)


@require_http_methods(["GET", "POST"])
@patient_page
def order_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        order = order_for(token)
    except LinkInvalid as error:
        return problem(request, str(error), status=410)
    booked = _booked_visit(order)
    if booked is not None:
        just_booked = _just_booked(request)
        if just_booked and just_booked.get("id") == booked.pk:
            return redirect("book-done")  # the form sent twice: the first one booked it
        return _order_booked(request, order, booked)
    held = _current_hold(request)
    if held is None or (request.session.get(BOOKING_SESSION_KEY) or {}).get("order") != order.pk:
        messages.info(request, _("Please pick a time first."))
        return redirect("book-order", token=token)
    context = {"held": held, "order": order, "order_token": token, "hold_minutes": HOLD_MINUTES,
               "expired": held.expires_at <= timezone.now(), **preparation(held, order.patient)}
    if request.method == "POST" and request.POST.get("held") != str(held.pk):
        # Another window picked another time since this page was shown: book nothing.
        context["error"] = _("You picked another time in another window since this page was shown. Your time is "
                             "now the one below: book it, or pick another.")
        context["pick_again_url"] = reverse("book-order", args=[token])
        return render_local(request, "pages/order_confirm.html", context, held.location, status=409)
    if request.method == "POST":
        # The language the patient books in is the one their confirmation and reminders use.
        patient_language_use(patient=order.patient, language=_language(request))
        try:
            appointment = services.appointment_book(patient=order.patient, procedure_type=order.procedure_type,
                                                    physician=held.physician, start=held.procedure_start,
                                                    order=order, hold_key=held.key, by_patient=True)
        except BookingError as error:
            context["error"] = patient_message(error) if not isinstance(error, SlotUnavailable) else _(
                "Sorry, that time was taken in the meantime. Please pick another.")
            context["pick_again_url"] = reverse("book-order", args=[token])
            return render_local(request, "pages/order_confirm.html", context, held.location, status=409)
        request.session.pop(BOOKING_SESSION_KEY, None)
        _remember_booking(request, appointment, messages_allowed=channel_for(order.patient) is not None)
        return redirect("book-done")
    return render_local(request, "pages/order_confirm.html", context, held.location)


