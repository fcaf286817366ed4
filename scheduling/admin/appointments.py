"""Appointments in the admin: booking from offered times, the visit's lifecycle, outcomes.

Moving a visit to another offered time is in `reschedule`."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.admin import HistoryAdmin
from clinic.models import Location, Physician, ProcedureType
from scheduling import services
from scheduling.errors import BookingError
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    EligibilityOverride,
    Outcome,
)
from scheduling.admin.forms import (
    SLOT_CHOICES_LIMIT,
    SLOT_SEARCH_DAYS,
    bound_to_request,
    parse_slot,
    slot_choices,
)
from scheduling.admin.appointment_export import AppointmentExportMixin
from scheduling.admin.checks import AppointmentChecksMixin
from scheduling.admin.reminders import ReminderInline
from scheduling.admin.reschedule import RescheduleAdminMixin
from scheduling.pathways.eligibility import eligible_window
from scheduling.pathways.holds import blood_thinner_holds, preparation_lines
from scheduling.selectors import available_slots

# The statuses a visit can be cancelled from (the lifecycle's transitions to cancelled).
CANCELLABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)


class AppointmentBookingForm(forms.ModelForm):
    """Book from the times the engine offers, never a free-typed time.

    First save: the form lists the available times for the day (or the next days with any).
    Second save, with a time chosen: the booking service books it; a conflict, such as the
    time being taken meanwhile, comes back as a form error with fresh choices.
    """

    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True), label=_("Location"))
    physician_choice = forms.ModelChoiceField(
        queryset=Physician.objects.filter(is_active=True).select_related("user"),
        required=False,
        label=_("Physician"),
        empty_label=_("First available"),
    )
    day = forms.DateField(label=_("Day"), help_text=_("Times on this day, or the next days with free times."))
    # Checked in clean() against the times offered then, not against a fixed list of choices.
    slot = forms.CharField(label=_("Available time"), required=False, widget=forms.Select(choices=[]))
    override_reason = forms.CharField(
        label=_("Override reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Physicians only: book despite the unmet pathway rules shown, for this reason (kept on record)."),
    )

    class Meta:
        model = Appointment
        fields = ["patient", "procedure_type", "notes"]

    def override_requested(self, cleaned) -> bool:
        user = getattr(self.request, "user", None)
        return bool((cleaned.get("override_reason") or "").strip()) and bool(
            user and user.has_perm("scheduling.override_eligibility_appointment"))

    def __init__(self, *args, **kwargs):
        self.request = kwargs.pop("request", None)
        super().__init__(*args, **kwargs)
        self.fields["procedure_type"].queryset = ProcedureType.objects.filter(is_active=True)
        locations = list(self.fields["location"].queryset[:2])
        if len(locations) == 1:
            self.fields["location"].initial = locations[0]
        self.fields["day"].initial = timezone.localdate()
        self.booked: Appointment | None = None
        if not self.is_bound and self.initial.get("slot"):
            self._offer_prefilled_slot(self.initial["slot"], self.initial.get("location"))

    def _offer_prefilled_slot(self, value: str, location_id) -> None:
        """A time chosen on the day board ("book here", `?slot=start|physician|room`) is the
        one choice shown; the booking still checks it like any offered time."""
        location = Location.objects.filter(pk=location_id, is_active=True).first() if str(location_id).isdigit() else None
        parsed = parse_slot(value, location) if location is not None else None
        if parsed is None:
            return
        start, physician, room = parsed
        self.fields["slot"].widget.choices = [
            (value, f"{start.astimezone(location.zone):%a %d %b %H:%M} — {physician.name}, {room.name}")]

    def clean_day(self):
        day = self.cleaned_data["day"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError(_("Choose today or a later day."))
        location = self.cleaned_data.get("location") or Location.objects.filter(is_active=True).first()
        horizon = location.booking_horizon_days if location else 90
        if day > today + dt.timedelta(days=horizon):
            raise forms.ValidationError(_("The clinic books at most %(days)s days ahead."), params={"days": horizon})
        return day

    def _offer_slots(self, cleaned) -> list:
        location = cleaned["location"]
        first_day, last_day = cleaned["day"], cleaned["day"] + dt.timedelta(days=SLOT_SEARCH_DAYS)
        if not self.override_requested(cleaned):
            # Only days the pathway rules allow for this patient, unless a physician overrides.
            first_day, last_day, eligibility = eligible_window(
                patient=cleaned["patient"], procedure_type=cleaned["procedure_type"], order=None,
                first_day=first_day, last_day=last_day)
            self.eligibility = eligibility
            if first_day is None:
                self.fields["slot"].widget.choices = [("", _("No time the rules allow"))]
                return []
        slots = available_slots(
            procedure_type=cleaned["procedure_type"], location=location, first_day=first_day,
            last_day=last_day, now=timezone.now(),
            physician=cleaned.get("physician_choice"), patient=cleaned["patient"], limit=SLOT_CHOICES_LIMIT,
            apply_minimum_notice=False,
        )
        self.fields["slot"].widget.choices = slot_choices(slots, location)
        return slots

    def clean(self):
        cleaned = super().clean()
        if self.errors or not all(cleaned.get(name) for name in ("patient", "procedure_type", "location", "day")):
            return cleaned
        chosen = self.data.get(self.add_prefix("slot"))
        self.eligibility = None
        slots = self._offer_slots(cleaned)
        if not chosen:
            if self.eligibility is not None and not self.eligibility.eligible:
                # Say why times are missing or start later than the day asked for.
                for item in self.eligibility.unmet:
                    self.add_error(None, item.message)
            if not slots:
                if self.eligibility is None or self.eligibility.eligible:
                    raise forms.ValidationError(
                        _("No free times in the %(days)s days from that day; try a later day."),
                        params={"days": SLOT_SEARCH_DAYS + 1})
                return cleaned
            self.add_error("slot", _("Choose one of the available times."))
            return cleaned
        parsed = parse_slot(chosen, cleaned["location"])
        if parsed is None:
            self.add_error("slot", _("Choose one of the available times."))
            return cleaned
        start, physician, room = parsed
        try:
            self.booked = services.appointment_book(
                patient=cleaned["patient"], procedure_type=cleaned["procedure_type"], physician=physician,
                start=start, room=room, booked_by=getattr(self.request, "user", None),
                override_reason=cleaned.get("override_reason", ""),
            )
        except BookingError as error:
            field = error.field if error.field in self.fields else None
            self.add_error(field if field not in ("start", "physician", "room") else "slot", error.message)
            self._offer_slots(cleaned)
            return cleaned
        if cleaned.get("notes"):
            self.booked.notes = cleaned["notes"]
            self.booked.save(update_fields=["notes"])
        self.instance = self.booked
        return cleaned


class OutcomeForm(forms.ModelForm):
    relief_percent = forms.IntegerField(
        label=_("relief (%)"), min_value=0, max_value=100, required=False,
        help_text=_("Leave empty to take it from the pain scores."),
    )

    class Meta:
        model = Outcome
        fields = ["pain_before", "pain_after", "relief_percent", "relief_duration_hours", "notes"]

    def clean(self):
        cleaned = super().clean()
        appointment = self.instance.appointment
        if appointment.status != AppointmentStatus.COMPLETED:
            raise forms.ValidationError(_("Outcomes are recorded once the visit is completed."))
        before, after = cleaned.get("pain_before"), cleaned.get("pain_after")
        if cleaned.get("relief_percent") is None and before is not None and after is not None:
            cleaned["relief_percent"] = max(round(100 * (before - after) / before), 0) if before else 0
            self.instance.relief_percent = cleaned["relief_percent"]
        return cleaned


class OutcomeInline(admin.StackedInline):
    model = Outcome
    form = OutcomeForm
    extra = 0
    max_num = 1
    can_delete = False
    readonly_fields = ["recorded_by", "recorded_at"]

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is not None and obj.status == AppointmentStatus.COMPLETED else 0


class OverrideInline(admin.TabularInline):
    model = EligibilityOverride
    extra = 0
    can_delete = False
    fields = ["unmet", "reason", "overridden_by", "created_at"]
    readonly_fields = fields
    verbose_name_plural = _("pathway rules overridden for this booking")

    def has_add_permission(self, request, obj=None):
        return False


class FollowUpInline(admin.TabularInline):
    model = Appointment
    fk_name = "follow_up_of"
    extra = 0
    can_delete = False
    fields = ["procedure_type", "procedure_start", "physician", "room", "status"]
    readonly_fields = fields
    verbose_name_plural = _("follow-up visits booked with this one")

    def has_add_permission(self, request, obj=None):
        return False


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.TextInput(attrs={"size": 60}))


@admin.register(Appointment)
class AppointmentAdmin(AppointmentExportMixin, AppointmentChecksMixin, RescheduleAdminMixin, HistoryAdmin):
    list_display = ["local_start", "patient", "procedure_type", "physician", "room", "status", "location"]
    list_filter = ["status", "location", "physician", "procedure_type"]
    search_fields = ["patient__last_name", "patient__first_name", "procedure_type__code"]
    list_select_related = ["patient", "procedure_type", "physician__user", "room", "location"]
    date_hierarchy = "procedure_start"
    ordering = ["procedure_start"]
    autocomplete_fields = ["patient"]
    actions = ["confirm", "check_in", "start", "move_to_recovery", "complete", "mark_no_show", "cancel"]
    history_list_display = ["status", "procedure_start", "physician", "room"]
    change_fields = ["status", "location", "patient", "procedure_type", "order", "physician", "room", "arrival",
                     "procedure_start", "procedure_end", "discharge", "room_start", "room_end", "follow_up_of",
                     "preparation", "blood_thinner_holds", "pre_procedure_checks", "booked_by", "cancel_reason",
                     "cancelled_by", "cancelled_at", "notes"]

    @admin.display(description=_("start (local)"), ordering="procedure_start")
    def local_start(self, obj: Appointment) -> str:
        return f"{obj.procedure_start.astimezone(obj.location.zone):%Y-%m-%d %H:%M %Z}"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return bound_to_request(AppointmentBookingForm, request)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["patient", "procedure_type", "location", "physician_choice", "day", "slot", "override_reason",
                    "notes"]
        return self.change_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [name for name in self.change_fields if name != "notes"]

    def has_change_permission(self, request, obj=None):
        # Nurses and physicians record outcomes on the visit's page; everything else on it is
        # read-only or changed through the actions.
        return super().has_change_permission(request, obj) or request.user.has_perm(
            "scheduling.record_outcome_appointment")

    def get_inlines(self, request, obj):
        return [] if obj is None else [OutcomeInline, OverrideInline, FollowUpInline, ReminderInline]

    @admin.display(description=_("blood-thinner holds"))
    def blood_thinner_holds(self, obj: Appointment) -> str:
        day = obj.procedure_start.astimezone(obj.location.zone).date()
        holds = blood_thinner_holds(patient=obj.patient, procedure_type=obj.procedure_type, procedure_day=day)
        if not holds:
            return _("None needed for this procedure and the patient's medicines.")
        today, upcoming = timezone.localdate(), obj.status in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
        return format_html_join(mark_safe("<br>"), "{}{}", (
            (_("CHECK, the hold should have begun already: ") if upcoming and hold.too_late(today) else "",
             hold.instruction())
            for hold in holds
        ))

    @admin.display(description=_("preparation"))
    def preparation(self, obj: Appointment) -> str:
        return " ".join(preparation_lines(obj.procedure_type)) or "-"

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            if isinstance(inline_form.instance, Outcome) and inline_form.has_changed():
                inline_form.instance.recorded_by = request.user
        super().save_formset(request, form, formset, change)

    def save_model(self, request, obj, form, change):
        if change:
            obj._history_user = request.user
            obj._change_reason = "Notes edited"
            super().save_model(request, obj, form, change)
        # On add, the booking service already saved the appointment inside form validation.

    def _run(self, request, queryset, service, permission: str, done: str):
        if not request.user.has_perm(f"scheduling.{permission}"):
            raise PermissionDenied
        changed = 0
        for appointment in queryset:
            try:
                service(appointment=appointment, by=request.user)
                changed += 1
            except BookingError as error:
                self.message_user(request, f"{appointment}: {error.message}", messages.ERROR)
        if changed:
            self.message_user(request, f"{changed} {done}.", messages.SUCCESS)

    @admin.action(description=_("Confirm"), permissions=["change"])
    def confirm(self, request, queryset):
        self._run(request, queryset, services.appointment_confirm, "change_appointment", "confirmed")

    @admin.action(description=_("Check in"))
    def check_in(self, request, queryset):
        self._run(request, queryset, services.appointment_check_in, "check_in_appointment", "checked in")

    @admin.action(description=_("Start procedure"))
    def start(self, request, queryset):
        self._run(request, queryset, services.appointment_start, "progress_appointment", "started")

    @admin.action(description=_("Move to recovery"))
    def move_to_recovery(self, request, queryset):
        self._run(request, queryset, services.appointment_move_to_recovery, "progress_appointment", "in recovery")

    @admin.action(description=_("Complete"))
    def complete(self, request, queryset):
        self._run(request, queryset, services.appointment_complete, "progress_appointment", "completed")

    @admin.action(description=_("Mark no-show"))
    def mark_no_show(self, request, queryset):
        self._run(request, queryset, services.appointment_mark_no_show, "no_show_appointment", "marked no-show")

    @admin.action(description=_("Cancel…"))
    def cancel(self, request, queryset):
        if not request.user.has_perm("scheduling.cancel_appointment"):
            raise PermissionDenied
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run(request, queryset,
                      lambda appointment, by: services.appointment_cancel(appointment=appointment, by=by, reason=reason),
                      "cancel_appointment", "cancelled")
            return None
        return TemplateResponse(request, "admin/scheduling/appointment/cancel.html", {
            **self.admin_site.each_context(request),
            "title": _("Cancel appointments"),
            "appointments": queryset,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    def get_urls(self):
        return [
            path("<path:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view),
                 name="scheduling_appointment_cancel"),
        ] + super().get_urls()

    def cancel_view(self, request, object_id):
        """The change page's "Cancel…" button: the same form as the list's action, for one visit."""
        appointment = self.get_object(request, unquote(object_id))
        if appointment is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        queryset = Appointment.objects.filter(pk=appointment.pk)
        response = self.cancel(request, queryset)
        if response is None:  # cancelled (or refused, with a message): back to the visit
            return redirect("admin:scheduling_appointment_change", appointment.pk)
        response.context_data["back_url"] = reverse("admin:scheduling_appointment_change", args=[appointment.pk],
                                                    current_app=self.admin_site.name)
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.status in CANCELLABLE and request.user.has_perm("scheduling.cancel_appointment"):
            context["cancel_url"] = reverse("admin:scheduling_appointment_cancel", args=[obj.pk],
                                            current_app=self.admin_site.name)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        needs = {"check_in": "check_in_appointment", "start": "progress_appointment",
                 "move_to_recovery": "progress_appointment", "complete": "progress_appointment",
                 "mark_no_show": "no_show_appointment", "cancel": "cancel_appointment"}
        for name, permission in needs.items():
            if name in actions and not request.user.has_perm(f"scheduling.{permission}"):
                del actions[name]
        return actions
