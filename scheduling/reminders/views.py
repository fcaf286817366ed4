"""The pages behind the links in reminders: confirm or cancel a visit, through the same
services the staff use. A GET only shows the question: link previewers and mail scanners
open links, so only the patient's button press changes anything."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from clinic.models import Location
from scheduling import services
from scheduling.errors import BookingError
from scheduling.models import AppointmentStatus
from scheduling.reminders.links import LinkInvalid, appointment_for


def _invalid(request: HttpRequest, reason: str, status: int = 410) -> HttpResponse:
    clinic = Location.objects.filter(is_active=True).order_by("pk").first()
    return render(request, "visit/invalid.html", {"clinic": clinic, "reason": reason}, status=status)


def _page(request: HttpRequest, token: str, action: str) -> HttpResponse:
    try:
        appointment = appointment_for(token, action)
    except LinkInvalid as error:
        return _invalid(request, str(error))
    zone = appointment.location.zone
    start = appointment.procedure_start.astimezone(zone)
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW) and not (
            action == "cancel" and appointment.status == AppointmentStatus.CANCELLED):
        return _invalid(request, f"Your visit on {start:%A %B %-d} at {start:%-I:%M %p} has been cancelled.")
    context = {
        "clinic": appointment.location, "action": action,
        "when": f"{start:%A %B %-d} at {start:%-I:%M %p}",
        "arrival": f"{appointment.arrival.astimezone(zone):%-I:%M %p}",
        "done": appointment.status == (AppointmentStatus.CONFIRMED if action == "confirm" else AppointmentStatus.CANCELLED),
    }
    if request.method == "POST" and not context["done"]:
        try:
            if action == "confirm":
                services.appointment_confirm(appointment=appointment)
            else:
                reason = request.POST.get("reason", "").strip()[:250] or "no reason given"  # the form allows 250
                services.appointment_cancel(appointment=appointment, reason=f"By the patient: {reason}",
                                            notify_patient=False)
        except BookingError as error:
            return _invalid(request, error.message, status=409)
        context["done"] = True
    return render(request, "visit/action.html", context)


@never_cache
def visit_confirm(request: HttpRequest, token: str) -> HttpResponse:
    return _page(request, token, "confirm")


@never_cache
def visit_cancel(request: HttpRequest, token: str) -> HttpResponse:
    return _page(request, token, "cancel")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its security cookie (cookies blocked, an old page): say what to do."""
    return _invalid(request, "Your browser did not send the page's security check. Please open the link from your "
                             "message again, allowing cookies for this site.", status=403)
