"""What needs attention: booked visits that are no longer possible, until someone resolves them;
and, for physicians and the clinic manager, care plans stopped at a gate waiting for a decision.

`/admin/board/attention/?location=ID` lists a location's stranded visits from now to its
booking horizon, however they came to be (a change in the admin, the API, a data import, a
direct change in the database), each with why in words; `?visits=1,2` lists those visits of
any location that are still stranded (the admin sends there after a change was saved). Each
can be moved to the nearest offered time, all at once or one by one, or cancelled with a reason.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.models import Location
from scheduling import services
from scheduling.admin.board.day import needs_attention_count
from scheduling.careplans.selectors import plans_needing_decision, sees_plan_decisions
from scheduling.confirm_stranded import stranded_rows
from scheduling.errors import BookingError
from scheduling.models import Appointment
from scheduling.stranded import StrandedVisit, attention_count_clear, stranded_visits, upcoming_until

VIEW_PERMISSION = "scheduling.view_appointment"
MOVE_PERMISSION = "scheduling.reschedule_appointment"
CANCEL_PERMISSION = "scheduling.cancel_appointment"
MAX_VISITS = 500


class AttentionQuery(forms.Form):
    """The page's query string: a location, or the visits a change just stranded."""

    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True), required=False,
                                      label=gettext_lazy("Location"), empty_label=None,
                                      error_messages={"invalid_choice": gettext_lazy("There is no such location.")})
    visits = forms.CharField(required=False)

    def clean_visits(self) -> list[int]:
        text = self.cleaned_data["visits"].strip()
        if not text:
            return []
        try:
            ids = sorted({int(part) for part in text.split(",") if part.strip()})
        except ValueError:
            raise forms.ValidationError(_("Visits are given as ids separated by commas, e.g. 12,15.")) from None
        if len(ids) > MAX_VISITS or any(pk <= 0 for pk in ids):
            raise forms.ValidationError(_("Visits are given as ids separated by commas, e.g. 12,15."))
        return ids


class Action(forms.Form):
    """One press of a button on the page."""

    action = forms.ChoiceField(choices=[("move", "move"), ("move_all", "move_all"), ("cancel", "cancel")])
    visit = forms.IntegerField(required=False, min_value=1)
    reason = forms.CharField(required=False, max_length=300)


def _default_location(user) -> Location | None:
    """The user's first location: the one they work at most (their physician blocks), else the first."""
    locations = Location.objects.filter(is_active=True)
    if hasattr(user, "physician"):
        own = locations.filter(schedule_blocks__physician=user.physician).order_by("name").first()
        if own is not None:
            return own
    return locations.order_by("name").first()


def _stranded(query: AttentionQuery, location: Location | None, now) -> list[StrandedVisit]:
    ids = query.cleaned_data["visits"]
    if ids:
        return stranded_visits(now=now, visits=Appointment.objects.filter(pk__in=ids))
    if location is None:
        return []
    return stranded_visits(now=now, visits=Appointment.objects.filter(location=location),
                           until=upcoming_until(location, now))


def _page(request, *, query, location, stranded, status=200, error=""):
    zone = location.zone if location else None
    return TemplateResponse(request, "admin/board/attention.html", {
        **admin.site.each_context(request),
        "title": _("Needs attention"),
        "subtitle": _("Visits no longer possible, and care plans waiting for a decision"),
        "location": location,
        "locations": Location.objects.filter(is_active=True).order_by("name"),
        "narrowed": bool(query.is_valid() and query.cleaned_data["visits"]),
        "ids": ",".join(str(item.appointment.pk) for item in stranded),
        "rows": stranded_rows(stranded),
        "horizon": upcoming_until(location, timezone.now()).astimezone(zone) if location else None,
        "can_move": request.user.has_perm(MOVE_PERMISSION),
        "can_cancel": request.user.has_perm(CANCEL_PERMISSION),
        "error": error,
        # Care plans stopped at a gate, for the physicians who decide and the clinic manager.
        "stopped_plans": plans_needing_decision(user=request.user) if sees_plan_decisions(request.user) else None,
        "attention_count": needs_attention_count(location, user=request.user, now=timezone.now()),
    }, status=status)


def attention_view(request):
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    query = AttentionQuery(request.GET or None)
    if query.is_bound and not query.is_valid():
        error = " ".join(str(message) for errors in query.errors.values() for message in errors)
        return _page(request, query=query, location=None, stranded=[], status=400, error=error)
    if not query.is_bound:
        query = AttentionQuery({})
        query.is_valid()
    location = query.cleaned_data.get("location") or _default_location(request.user)
    now = timezone.now()
    if request.method == "POST":
        return _act(request, query, location, now)
    return _page(request, query=query, location=location, stranded=_stranded(query, location, now))


def _act(request, query, location, now):
    action = Action(request.POST)
    if not action.is_valid():
        return _page(request, query=query, location=location, stranded=_stranded(query, location, now), status=400,
                     error=_("That action is not one this page offers."))
    kind, visit_id = action.cleaned_data["action"], action.cleaned_data["visit"]
    if not request.user.has_perm(CANCEL_PERMISSION if kind == "cancel" else MOVE_PERMISSION):
        raise PermissionDenied
    # Only visits still stranded are acted on: the page is not a way to move any visit.
    stranded = {item.appointment.pk: item.appointment for item in _stranded(query, location, now)}
    if kind == "move_all":
        chosen = list(stranded.values())
    elif visit_id in stranded:
        chosen = [stranded[visit_id]]
    else:
        messages.warning(request, _("That visit is no longer stranded (or not on this list); nothing was changed."))
        return HttpResponseRedirect(request.get_full_path())
    attention_count_clear()
    if kind == "cancel":
        appointment = chosen[0]
        try:
            services.appointment_cancel(appointment=appointment, reason=action.cleaned_data["reason"], by=request.user)
        except BookingError as error:
            messages.error(request, _("%(visit)s: not cancelled. %(why)s") % {"visit": _label(appointment),
                                                                              "why": error.message})
        else:
            messages.success(request, _("%(visit)s: cancelled. The patient is told.") % {"visit": _label(appointment)})
        return HttpResponseRedirect(request.get_full_path())
    for result in services.appointments_move_to_nearest(appointments=chosen, by=request.user, now=now):
        say = messages.success if result.moved else messages.error
        say(request, f"{_label(result.appointment)}: {result.message}")
    return HttpResponseRedirect(request.get_full_path())


def _label(appointment: Appointment) -> str:
    return f"{appointment.patient.full_name}, {appointment.procedure_type.name}"


urlpatterns = [
    path("attention/", admin.site.admin_view(attention_view), name="attention"),
]
