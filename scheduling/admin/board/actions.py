"""What staff can do to a visit from the staff's day, and the routes that do it.

`actions_for` lists the actions a visit's status allows (the lifecycle's `ALLOWED`) and the
user's role allows, for the board, the arrivals desk and anything else that shows a visit.
Each route checks the permission again on the server: a hidden button is not a refusal.

An action's `asks` says what the page must show for it:
- None: a one-button form that POSTs to `url`;
- "reason": the same form with a reason field (cancelling; starting with checks missing);
- "checks": a link to the check-in page, which lists the pre-procedure checks to record;
- "page": a link to a page of its own (rescheduling, recording an outcome, in the appointment's admin).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.db.models import Q
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy as _

from clinic.models import Location
from scheduling import services
from scheduling.diary.prompts import has_diary
from scheduling.errors import BookingError
from scheduling.models import BOOKED_STATUSES, Appointment, AppointmentStatus, Outcome
from scheduling.pathways.checks import VisitChecks, procedure_day, visit_checks
from scheduling.services.lifecycle import ALLOWED

S = AppointmentStatus


@dataclass(frozen=True)
class VisitAction:
    name: str
    label: str
    url: str
    asks: str | None = None

    @property
    def is_link(self) -> bool:
        """Opens a page (GET) rather than acting at once (POST)."""
        return self.asks in ("checks", "page")


@dataclass(frozen=True)
class _Step:
    """A lifecycle step the routes can take: where it leads, who may, which service does it."""

    label: str
    to: str
    permission: str
    service: Callable
    done: str
    takes_reason: bool = False


_STEPS: dict[str, _Step] = {
    "check-in": _Step(_("Check in"), S.CHECKED_IN, "scheduling.check_in_appointment",
                      services.appointment_check_in, _("checked in")),
    "start": _Step(_("Start procedure"), S.IN_PROCEDURE, "scheduling.progress_appointment",
                   services.appointment_start, _("procedure started"), takes_reason=True),
    "recovery": _Step(_("To recovery"), S.IN_RECOVERY, "scheduling.progress_appointment",
                      services.appointment_move_to_recovery, _("moved to recovery")),
    "complete": _Step(_("Complete"), S.COMPLETED, "scheduling.progress_appointment",
                      services.appointment_complete, _("completed")),
    "confirm": _Step(_("Confirm"), S.CONFIRMED, "scheduling.change_appointment",
                     services.appointment_confirm, _("confirmed")),
    "no-show": _Step(_("No-show"), S.NO_SHOW, "scheduling.no_show_appointment",
                     services.appointment_mark_no_show, _("marked as a no-show")),
    "cancel": _Step(_("Cancel"), S.CANCELLED, "scheduling.cancel_appointment",
                    services.appointment_cancel, _("cancelled"), takes_reason=True),
}
RESCHEDULE_PERMISSION = "scheduling.reschedule_appointment"
OUTCOME_PERMISSION = "scheduling.record_outcome_appointment"
CHECKS_PERMISSION = _STEPS["check-in"].permission


def action_url(visit: Appointment, name: str) -> str:
    return reverse("board:visit-action", args=[visit.pk, name])


def actions_for(user, visit: Appointment, *, now: dt.datetime, checks: VisitChecks | None = None,
                has_outcome: bool | None = None) -> list[VisitAction]:
    """The actions `user` may take on `visit` now, the next step of the visit first.

    Check-in is offered on the visit's day only and a no-show once the arrival time has
    passed, as the services require. Pass `checks` when already computed for the visit, and
    `has_outcome` when the day's outcomes are already known (else a completed visit's outcome
    is looked up, one query).
    """
    allowed = ALLOWED.get(visit.status, set())
    is_visit_day = now.astimezone(visit.location.zone).date() == procedure_day(visit)
    actions = []
    if visit.status == S.CHECKED_IN and user.has_perm(CHECKS_PERMISSION):
        checks = checks if checks is not None else visit_checks(visit)
        if checks.missing:  # e.g. the driver came after check-in: confirm it before the start
            actions.append(VisitAction("checks", _("Record checks…"),
                                       reverse("board:visit-check-in", args=[visit.pk]), "checks"))
    for name, step in _STEPS.items():
        if step.to not in allowed or not user.has_perm(step.permission):
            continue
        asks = "reason" if name == "cancel" else None
        if name == "check-in":
            if not is_visit_day:
                continue
            checks = checks if checks is not None else visit_checks(visit)
            # The check-in page also asks a diary's baseline pain (one query, for visits of the day).
            asks = "checks" if checks.needed or has_diary(visit.procedure_type) else None
            actions.append(VisitAction(name, step.label, reverse("board:visit-check-in", args=[visit.pk]), asks))
            continue
        if name == "start":
            checks = checks if checks is not None else visit_checks(visit)
            if checks.missing:
                asks = "reason"  # starting without them needs a reason, kept on the record
        if name == "no-show" and now < visit.arrival:
            continue
        actions.append(VisitAction(name, step.label, action_url(visit, name), asks))
    if visit.status in BOOKED_STATUSES and user.has_perm(RESCHEDULE_PERMISSION):
        actions.append(VisitAction("reschedule", _("Reschedule…"),
                                   reverse("admin:scheduling_appointment_reschedule", args=[visit.pk]), "page"))
    if visit.status == S.COMPLETED and user.has_perm(OUTCOME_PERMISSION):
        if has_outcome is None:
            has_outcome = Outcome.objects.filter(appointment=visit).exists()
        if not has_outcome:  # the relief it gave decides the next step of the pathway (RFA after two blocks)
            url = reverse("admin:scheduling_appointment_change", args=[visit.pk]) + "#outcome-group"
            actions.append(VisitAction("outcome", _("Record outcome…"), url, "page"))
    return actions


def day_url(location: Location, day: dt.date) -> str:
    """The staff's day for a location and day: where an action returns when no `next` is given."""
    try:
        base = reverse("board:day")
    except NoReverseMatch:  # the day board names its page "day"; until it is mounted, the arrivals desk
        base = reverse("board:arrivals")
    return f"{base}?location={location.pk}&date={day.isoformat()}"


def safe_back(request, default: str) -> str:
    """The page a link or form came from (`next=`) if it is on this site, else `default`."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return wanted
    return default


def back_label(url: str) -> str:
    """The name of the staff's page `url` leads back to, as its tabs name it."""
    if url.startswith(reverse("board:arrivals")):
        return gettext("Arrivals")
    if url.startswith(reverse("board:my_day")):
        return gettext("My day")
    if url.startswith(reverse("board:recovery")):
        return gettext("Procedures and recovery")
    return gettext("Day board")


def safe_next(request, visit: Appointment) -> str:
    """Where to go after acting: the page the action came from if it is on this site, else the
    day of the visit."""
    return safe_back(request, day_url(visit.location, procedure_day(visit)))


def visit_or_redirect(request, pk: int):
    """The visit, or a redirect to the staff's day with a message when there is no such visit."""
    visit = Appointment.objects.select_related("location", "patient", "procedure_type").filter(pk=pk).first()
    if visit is None:
        messages.warning(request, gettext("There is no visit with ID %(id)s; it may have been deleted.") % {"id": pk})
        return None, HttpResponseRedirect(reverse("board:arrivals"))
    return visit, None


def visit_action(request, pk: int, action: str):
    """Take one lifecycle step on a visit (POST), then go back to the page it came from."""
    step = _STEPS.get(action)
    if step is None:
        raise Http404(gettext("No such action."))
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_perm(step.permission):
        raise PermissionDenied
    visit, redirect = visit_or_redirect(request, pk)
    if visit is None:
        return redirect
    arguments = {"appointment": visit, "by": request.user}
    if step.takes_reason:
        arguments["reason"] = request.POST.get("reason", "")[:300]
    try:
        step.service(**arguments)
    except BookingError as error:
        messages.error(request, f"{visit.patient.full_name}: {error.message}")
    else:
        messages.success(request, f"{visit.patient.full_name}: {step.done}.")
        if action == "start":
            _warn_of_others_in_procedure(request, visit)
    return HttpResponseRedirect(safe_next(request, visit))


def _warn_of_others_in_procedure(request, visit: Appointment) -> None:
    """A procedure started while its room or physician still shows another one under way: the
    board is behind (that patient left without being moved on) or the start was a mistake."""
    others = (Appointment.objects.filter(Q(room_id=visit.room_id) | Q(physician_id=visit.physician_id),
                                         status=AppointmentStatus.IN_PROCEDURE)
              .exclude(pk=visit.pk).select_related("patient", "room", "physician__user").order_by("procedure_start"))
    for other in others:
        messages.warning(request, gettext(
            "%(patient)s is still shown in procedure (%(room)s, %(physician)s), with the same room or physician: "
            "move that visit to recovery once it has left the room.") % {
            "patient": other.patient.full_name, "room": other.room.name if other.room_id else "",
            "physician": other.physician.name})


urlpatterns = [
    path("visit/<int:pk>/<slug:action>/", admin.site.admin_view(visit_action), name="visit-action"),
]
