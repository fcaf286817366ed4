"""Moving a booked visit from its admin page: to a time the engine offers, through the service."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from clinic.models import Physician
from scheduling import services
from scheduling.admin.forms import check_day, parse_slot, time_choices
from scheduling.bookable import SEARCH_DAYS, bookable_times
from scheduling.errors import BookingError
from scheduling.models import BOOKED_STATUSES, Appointment
from scheduling.pathways.overrides import may_override_rules

PERMISSION = "scheduling.reschedule_appointment"


def local_time(appointment: Appointment) -> str:
    """When the visit is, in its location's zone, as the front desk says it to the patient."""
    zone = appointment.location.zone
    start, arrival = appointment.procedure_start.astimezone(zone), appointment.arrival.astimezone(zone)
    return f"{start:%a %d %b %Y %H:%M %Z} (arrive {arrival:%H:%M})"


class RescheduleForm(forms.Form):
    """A new time for one visit, chosen from the times the engine offers for it.

    The visit itself does not count as busy, and the patient's other visits do, so the patient
    is never offered a time that clashes with another of their bookings. "Show times" lists the
    times from the day asked for; "Reschedule" moves the visit to the chosen one.
    """

    physician = forms.ModelChoiceField(
        queryset=Physician.objects.none(), required=False, label=_("Physician"),
        empty_label=_("Any physician credentialed for it"),
    )
    day = forms.DateField(label=_("From day"), help_text=_("Times on this day, or the next days with free times."),
                          widget=forms.DateInput(attrs={"type": "date"}))  # the picker the booking form has
    # Checked by the service against the calendar as it is then, not against a fixed list.
    slot = forms.CharField(label=_("New time"), required=False, widget=forms.Select(choices=[]))
    override_reason = forms.CharField(
        label=_("Override reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Move despite the unmet pathway rules shown, for this reason (kept on record)."),
    )

    def __init__(self, data=None, *, appointment: Appointment, user):
        super().__init__(data)
        self.appointment, self.user, self.location = appointment, user, appointment.location
        self.today = timezone.localdate(timezone=self.location.zone)
        credentialed = Physician.objects.filter(is_active=True, procedure_types=appointment.procedure_type)
        self.fields["physician"].queryset = credentialed.select_related("user")
        if credentialed.filter(pk=appointment.physician_id).exists():
            self.fields["physician"].initial = appointment.physician_id
        self.fields["day"].initial = self.today
        if not may_override_rules(user):
            # Only physicians may override a pathway rule; the service refuses anyone else.
            del self.fields["override_reason"]
        self.moving = bool(data) and "_reschedule" in data
        self.unmet: list[str] = []
        if not self.is_bound:
            self.offer(day=self.today, physician=appointment.physician if self.fields["physician"].initial else None,
                       override=False)

    def clean_day(self):
        return check_day(self.cleaned_data["day"], location=self.location, today=self.today)

    def override_requested(self) -> bool:
        reason = (self.cleaned_data.get("override_reason") or "").strip()
        return bool(reason) and may_override_rules(self.user)

    def offer(self, *, day: dt.date, physician: Physician | None, override: bool) -> list:
        """Fill the time choices from `day` on; the times offered."""
        found = bookable_times(patient=self.appointment.patient, procedure_type=self.appointment.procedure_type,
                               location=self.location, first_day=day, now=timezone.now(), physician=physician,
                               rebooking=self.appointment, override=override)
        self.unmet = found.unmet
        visit = self.appointment
        # The visit's own time, which counts as free while it is moved, is no new time.
        found.times = [time for time in found.times if (time.slot.start, time.slot.physician_id, time.slot.room_id)
                       != (visit.procedure_start, visit.physician_id, visit.room_id)]
        if found.times:
            self.fields["slot"].widget.choices = time_choices(found.times, self.location)
        elif found.unmet and not override and not found.rules_allow_any:
            self.fields["slot"].widget.choices = [("", _("No time the rules allow"))]
        else:
            self.fields["slot"].widget.choices = [
                ("", _("No free times in the %(days)s days from that day") % {"days": SEARCH_DAYS + 1})]
        return found.times

    def _offer_again(self) -> list:
        if "day" not in self.cleaned_data:
            return []
        return self.offer(day=self.cleaned_data["day"], physician=self.cleaned_data.get("physician"),
                          override=self.override_requested())

    def clean(self):
        cleaned = super().clean()
        self._offer_again()
        if not self.moving or self.errors:
            return cleaned
        parsed = parse_slot(cleaned.get("slot") or "", self.location)
        if parsed is None:
            self.add_error("slot", _("Choose one of the available times."))
            return cleaned
        cleaned["start"], cleaned["slot_physician"], cleaned["room"] = parsed
        return cleaned

    def move_arguments(self) -> dict:
        """The chosen time as the reschedule service's arguments."""
        cleaned = self.cleaned_data
        return {"start": cleaned["start"], "physician": cleaned["slot_physician"], "room": cleaned["room"],
                "override_reason": cleaned.get("override_reason", "")}

    def refused(self, error: BookingError) -> None:
        """The service's refusal as a form error, with fresh choices."""
        field = error.field if error.field in self.fields else None
        if error.field in ("start", "physician", "room"):
            field = "slot"
        self.add_error(field, error.message)
        self._offer_again()


class RescheduleAdminMixin:
    """A "Reschedule…" page for one appointment, linked from its change page."""

    reschedule_template = "admin/scheduling/appointment/reschedule.html"

    def get_urls(self):
        opts = self.opts
        return [
            path("<path:object_id>/reschedule/", self.admin_site.admin_view(self.reschedule_view),
                 name=f"{opts.app_label}_{opts.model_name}_reschedule"),
        ] + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.status in BOOKED_STATUSES and request.user.has_perm(PERMISSION):
            context["reschedule_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_reschedule", args=[obj.pk],
                current_app=self.admin_site.name)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def reschedule_view(self, request, object_id):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        appointment = self.get_object(request, unquote(object_id))
        if appointment is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[appointment.pk],
                             current_app=self.admin_site.name)
        if appointment.status not in BOOKED_STATUSES:
            self.message_user(request, gettext(
                "Only a scheduled or confirmed visit can be rescheduled; this one is %(status)s.")
                % {"status": appointment.get_status_display().lower()}, messages.ERROR)
            return HttpResponseRedirect(change_url)
        form = RescheduleForm(request.POST if request.method == "POST" else None, appointment=appointment,
                              user=request.user)
        if form.is_bound and form.is_valid() and form.moving:
            try:
                moved = services.appointment_reschedule(appointment=appointment, by=request.user,
                                                        **form.move_arguments())
            except BookingError as error:
                appointment.refresh_from_db()  # the service may have set the new time on it before refusing
                form.refused(error)
            else:
                self.message_user(request, gettext("Rescheduled to %(when)s with %(physician)s. %(status)s") % {
                    "when": local_time(moved), "physician": moved.physician.name,
                    "status": gettext("It needs confirming again."),
                }, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        return TemplateResponse(request, self.reschedule_template, {
            **self.admin_site.each_context(request),
            "title": _("Reschedule appointment"),
            "subtitle": str(appointment),
            "appointment": appointment,
            "now_at": local_time(appointment),
            "physician_name": appointment.physician.name,
            "room_name": appointment.room.name if appointment.room_id else "",
            "form": form,
            "opts": self.opts,
            "change_url": change_url,
            "has_view_permission": self.has_view_permission(request, appointment),
        })
