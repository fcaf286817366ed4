"""A patient's own visit, from the signed link in their messages: see it, confirm it, move it,
cancel it, join the waitlist, take an earlier time offered, add it to a calendar; and their care
plan, if they have one: what comes next and what it waits for.

The link carries only a signed visit id bound to the visit's time: once the visit moves, the
old link stops working and the patient is sent the new one. A GET never changes anything
(mail scanners open links); the patient's button press does, through the staff's services.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from scheduling import services
from scheduling.errors import BookingError, SlotUnavailable
from scheduling.models import (
    BOOKED_STATUSES,
    Appointment,
    AppointmentStatus,
    OfferStatus,
    SlotHold,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.pages.booking import confirmation_context
from scheduling.pages.calendar import visit_calendar
from scheduling.pages.careplan import plan_section
from scheduling.pages.common import (
    current_hold_key,
    hold_key,
    holds_time,
    patient_page,
    pick_again,
    render_local,
    render_taken,
    render_week,
)
from scheduling.pages.errors import patient_message, problem
from scheduling.pages.forms import CancelForm
from scheduling.pages.picker import Search, parse_choice, parse_week, physicians_for, week_of
from scheduling.pathways.bookable_days import bookable_days
from scheduling.reminders.links import LinkInvalid, appointment_for, link, make_token
from scheduling.reminders.links import path as visit_path

RESCHEDULE_SESSION_KEY = "interval.reschedule"


def _visit(request: HttpRequest, token: str, action: str = "manage") -> Appointment | HttpResponse:
    try:
        appointment = appointment_for(token, action)
    except LinkInvalid as error:
        return problem(request, str(error), status=410)
    start = appointment.procedure_start.astimezone(appointment.location.zone)
    if appointment.status == AppointmentStatus.CANCELLED and action != "cancel":
        return problem(request, _("Your visit on %(day)s has been cancelled.") % {"day": _day(start)},
                       status=410, title=_("This visit is cancelled"))
    if appointment.status == AppointmentStatus.NO_SHOW:
        return problem(request, _("Your visit on %(day)s has passed.") % {"day": _day(start)},
                       status=410, title=_("This visit has passed"))
    return appointment


def _day(instant: dt.datetime) -> str:
    return date_format(instant, _("l, F j, Y"))


def _late(appointment: Appointment) -> bool:
    hours = appointment.location.late_cancellation_hours
    return appointment.procedure_start - timezone.now() < dt.timedelta(hours=hours)


def _open_offers(appointment: Appointment) -> list[WaitlistOffer]:
    return list(WaitlistOffer.objects.filter(entry__appointment=appointment, status=OfferStatus.OPEN,
                                             entry__status=WaitlistStatus.WAITING,
                                             expires_at__gt=timezone.now()).order_by("procedure_start"))


def _search(appointment: Appointment, request: HttpRequest, *, before: dt.datetime | None = None) -> Search | None:
    """Where this visit can move to: the same visit type, location and patient, on days the
    pathway rules allow."""
    location = appointment.location
    last = None if before is None else before.astimezone(location.zone).date()
    days = bookable_days(patient=appointment.patient, procedure_type=appointment.procedure_type, location=location,
                         now=timezone.now(), by_patient=True, rebooking=appointment, last_day=last)
    if days.first is None:
        return None
    # The visit's own doctor unless the patient asks for anyone ("any") or another one.
    params = request.POST if request.method == "POST" else request.GET
    wanted = params.get("physician", str(appointment.physician_id))
    physician = None if wanted == "any" else next((p for p in physicians_for(appointment.procedure_type, location)
                                                   if str(p.pk) == wanted), appointment.physician)
    return Search(procedure_type=appointment.procedure_type, location=location, patient=appointment.patient,
                  physician=physician, moving=appointment, hold_key=current_hold_key(request), days=days)


@require_http_methods(["GET", "POST"])
@patient_page
def manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _visit(request, token)
    if isinstance(appointment, HttpResponse):
        return appointment
    entry = getattr(appointment, "waitlist_entry", None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "confirm" and appointment.status == AppointmentStatus.SCHEDULED:
                services.appointment_confirm(appointment=appointment)
                messages.success(request, _("Thank you: your visit is confirmed."))
            elif action == "waitlist_join":
                services.waitlist_join(appointment=appointment, any_physician=request.POST.get("any_physician") == "1")
                messages.success(request, _("You are on the waitlist. If an earlier time opens, we will send you a "
                                            "message."))
            elif action == "waitlist_leave":
                services.waitlist_leave(appointment=appointment)
                messages.success(request, _("You are off the waitlist."))
            elif action == "take_offer":
                offer = WaitlistOffer.objects.filter(pk=_int(request.POST.get("offer")),
                                                     entry__appointment=appointment).first()
                if offer is None:
                    return problem(request, _("That offer is not for this visit."), status=404)
                moved = services.waitlist_accept(offer=offer)
                messages.success(request, _("Your visit has moved to the earlier time."))
                return redirect(visit_path(moved, "manage"))
        except services.OfferGone as error:
            messages.warning(request, _("%(reason)s Here are other earlier times, if any.") % {
                "reason": patient_message(error)})
            return redirect(reverse("visit-reschedule", args=[token]) + "?earlier=1")
        except BookingError as error:
            messages.error(request, patient_message(error))
        return redirect("visit-manage", token=token)
    context = {
        **confirmation_context(appointment),
        "token": token,
        "upcoming": appointment.status in BOOKED_STATUSES,
        "can_move": appointment.status in BOOKED_STATUSES and not appointment.follow_up_of_id,
        "cancel_url": reverse("visit-cancel", args=[make_token(appointment, "cancel")]),
        "waiting": entry is not None and entry.status == WaitlistStatus.WAITING,
        "offers": _open_offers(appointment),
        "plan": plan_section(appointment),
    }
    return render_local(request, "pages/manage.html", context, appointment.location)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_http_methods(["GET", "POST"])
@patient_page
@holds_time
def reschedule(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _visit(request, token)
    if isinstance(appointment, HttpResponse):
        return appointment
    if appointment.status not in BOOKED_STATUSES or appointment.follow_up_of_id:
        return problem(request, _("This visit cannot be moved online. Please call us."), status=409,
                       title=_("Please call us"))
    earlier = request.GET.get("earlier") == "1" or request.POST.get("earlier") == "1"
    search = _search(appointment, request, before=appointment.procedure_start if earlier else None)
    if search is None:
        return problem(request, _("There is no other time we can offer online. Please call us."), status=409,
                       title=_("Please call us"))
    now = timezone.now()
    context = {"appointment": appointment, "search": search, "locations": [],
               "physicians": list(physicians_for(appointment.procedure_type, appointment.location)),
               "hold_url": reverse("visit-reschedule", args=[token]), "picker_url": reverse("visit-reschedule",
                                                                                              args=[token]),
               "moving": True, "earlier": earlier}
    if request.method == "POST":
        choice = parse_choice(request.POST.get("choice", ""))
        physician = appointment.procedure_type.physicians.filter(pk=choice[1]).first() if choice else None
        if physician is None or not search.allows(choice[0]):
            return pick_again(request)
        try:
            held = services.slot_hold(key=hold_key(request), procedure_type=appointment.procedure_type,
                                      physician=physician, start=choice[0], patient=appointment.patient,
                                      moving=appointment)
        except BookingError as error:
            return render_taken(request, context, search, choice[0], error)
        request.session[RESCHEDULE_SESSION_KEY] = {"hold": held.pk, "appointment": appointment.pk}
        return redirect("visit-reschedule-confirm", token=token)
    week = week_of(search, parse_week(request.GET.get("week"), search, now), now)
    return render_week(request, "pages/times.html", {**context, "week": week}, search)


@require_http_methods(["GET", "POST"])
@patient_page
def reschedule_confirm(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _visit(request, token)
    if isinstance(appointment, HttpResponse):
        return appointment
    pending = request.session.get(RESCHEDULE_SESSION_KEY) or {}
    held = SlotHold.objects.select_related("location", "physician", "procedure_type").filter(
        pk=pending.get("hold"), key=current_hold_key(request)).first()
    if held is None or pending.get("appointment") != appointment.pk:
        messages.info(request, _("Please pick a time first."))
        return redirect("visit-reschedule", token=token)
    context = {"appointment": appointment, "held": held, "token": token, "expired": held.expires_at <= timezone.now()}
    if request.method == "POST":
        try:
            moved = services.appointment_reschedule(appointment=appointment, start=held.procedure_start,
                                                    physician=held.physician, hold_key=held.key, by_patient=True)
        except BookingError as error:
            context["error"] = _("Sorry, that time was taken in the meantime. Please pick another.") if isinstance(
                error, SlotUnavailable) else patient_message(error)
            return render_local(request, "pages/reschedule_confirm.html", context, appointment.location, status=409)
        request.session.pop(RESCHEDULE_SESSION_KEY, None)
        messages.success(request, _("Your visit has moved. We have sent you the new details."))
        return redirect(visit_path(moved, "manage"))
    return render_local(request, "pages/reschedule_confirm.html", context, appointment.location)


@require_http_methods(["GET", "POST"])
@patient_page
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The "Confirm" link in the confirmation request: one button."""
    appointment = _visit(request, token, "confirm")
    if isinstance(appointment, HttpResponse):
        return appointment
    done = appointment.status != AppointmentStatus.SCHEDULED
    if request.method == "POST" and not done:
        try:
            services.appointment_confirm(appointment=appointment)
        except BookingError as error:
            return problem(request, patient_message(error), status=409)
        done = True
    return render_local(request, "pages/confirm.html", {
        "appointment": appointment, "done": done, "manage_url": visit_path(appointment, "manage")}, appointment.location)


@require_http_methods(["GET", "POST"])
@patient_page
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _visit(request, token, "cancel")
    if isinstance(appointment, HttpResponse):
        return appointment
    done = appointment.status == AppointmentStatus.CANCELLED
    form = CancelForm(request.POST or None)
    if request.method == "POST" and not done:
        if appointment.status not in BOOKED_STATUSES:
            return problem(request, _("This visit can no longer be cancelled online. Please call us."), status=409,
                           title=_("Please call us"))
        if form.is_valid():
            try:
                services.appointment_cancel(appointment=appointment, reason=form.reason_text(), notify_patient=False)
            except BookingError as error:
                appointment.refresh_from_db()
                if appointment.status != AppointmentStatus.CANCELLED:
                    return problem(request, patient_message(error), status=409)
                # A second press of the button while the first was cancelling: that one did it.
            done = True
    return render_local(request, "pages/cancel.html", {
        "appointment": appointment, "done": done, "form": form, "late": _late(appointment),
        "manage_url": visit_path(appointment, "manage"),
        "book_url": reverse("book-start")}, appointment.location, status=400 if form.errors else 200)


@patient_page
def calendar(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _visit(request, token)
    if isinstance(appointment, HttpResponse):
        return appointment
    response = HttpResponse(visit_calendar(appointment, manage_url=link(appointment, "manage")),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="visit.ics"'
    return response
