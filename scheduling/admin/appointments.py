"""Appointments in the admin: the visit's lifecycle, outcomes.

Booking from the offered times is in `booking`, moving a visit to another one in `reschedule`."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from clinic.access_log import AccessLoggedAdmin
from clinic.admin import HistoryAdmin
from clinic.models import Channel
from scheduling import services
from scheduling.errors import BookingError
from scheduling.models import (
    BEFORE_PROCEDURE_STATUSES,
    Appointment,
    AppointmentStatus,
    EligibilityOverride,
    Outcome,
    OutcomeSource,
)
from scheduling.admin.appointment_export import AppointmentExportMixin
from scheduling.admin.booking import BookingAdminMixin
from scheduling.admin.checks import AppointmentChecksMixin
from scheduling.admin.diary import DiaryAdminMixin, diary_confirm_url, diary_panel, shows_diary
from scheduling.admin.reminders import ReminderInline
from scheduling.admin.reschedule import RescheduleAdminMixin
from scheduling.admin.waitlist import JOIN_PERMISSION, can_join
from scheduling.pathways.holds import blood_thinner_holds, holds_told_too_late, preparation_lines
from scheduling.reminders.outbox import channel_for

# The statuses a visit can be cancelled from (the lifecycle's transitions to cancelled).


class OutcomeForm(forms.ModelForm):
    relief_percent = forms.IntegerField(
        label=_("Relief (%)"), min_value=0, max_value=100, required=False,
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
    readonly_fields = ["source", "recorded_by", "recorded_at"]

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
class AppointmentAdmin(AccessLoggedAdmin, BookingAdminMixin, AppointmentExportMixin, AppointmentChecksMixin,
                       RescheduleAdminMixin, DiaryAdminMixin, HistoryAdmin):
    # Fits beside the sidebar and the filters at 1280 px: short cells, two lines each, the physician and
    # the room in one column (the site is a filter, and the time carries its zone).
    list_display = ["local_start", "patient_cell", "procedure_code", "physician_and_room", "status"]
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
                     "preparation", "blood_thinner_holds", "messages_to_patient", "pre_procedure_checks",
                     "patients_pain_diary", "booked_by", "cancel_reason", "cancelled_by", "cancelled_at", "notes"]

    @admin.display(description=_("When (local)"), ordering="procedure_start")
    def local_start(self, obj: Appointment) -> str:
        local = obj.procedure_start.astimezone(obj.location.zone)
        return format_html("{}<br>{}", f"{local:%a %Y-%m-%d}", f"{local:%H:%M %Z}")

    @admin.display(description=_("Patient"), ordering="patient__last_name")
    def patient_cell(self, obj: Appointment):
        patient = obj.patient
        return format_html("{}, {}<br><small>{}</small>", patient.last_name, patient.first_name,
                           f"{patient.date_of_birth:%Y-%m-%d}")

    @admin.display(description=_("Procedure"), ordering="procedure_type__code")
    def procedure_code(self, obj: Appointment):
        # A long code (SCS_TRIAL_REMOVAL) may break after an underscore rather than widen the list.
        code = mark_safe("_<wbr>".join(conditional_escape(part) for part in obj.procedure_type.code.split("_")))
        return format_html('<abbr title="{}">{}</abbr>', obj.procedure_type.name, code)

    @admin.display(description=_("Physician, room"), ordering="physician__user__last_name")
    def physician_and_room(self, obj: Appointment):
        return format_html("{}<br><small>{}</small>", f"Dr. {obj.physician.user.last_name}",
                           obj.room.name if obj.room_id else "")

    def get_fields(self, request, obj=None):
        # A new visit is booked on the add page (BookingAdminMixin); the pain diary shows for
        # procedures that have one.
        if obj is not None and not shows_diary(obj):
            return [name for name in self.change_fields if name != "patients_pain_diary"]
        return self.change_fields

    @admin.display(description=_("pain diary"))
    def patients_pain_diary(self, obj: Appointment) -> str:
        return diary_panel(obj) or "-"

    def get_readonly_fields(self, request, obj=None):
        return [name for name in self.change_fields if name != "notes"]

    def has_change_permission(self, request, obj=None):
        # Nurses and physicians record outcomes on the visit's page; everything else on it is
        # read-only or changed through the actions.
        return super().has_change_permission(request, obj) or request.user.has_perm(
            "scheduling.record_outcome_appointment")

    def get_inlines(self, request, obj):
        return [] if obj is None else [OutcomeInline, OverrideInline, FollowUpInline, ReminderInline]

    @admin.display(description=_("messages to the patient"))
    def messages_to_patient(self, obj: Appointment) -> str:
        """How the visit's reminders reach the patient, or why none do."""
        channel = channel_for(obj.patient)
        if channel is None:
            return format_html(
                '<span class="no-consent-flag">{}</span> {} <a href="{}">{}</a>', _("No consent to contact"),
                _("No reminders are sent for this visit until the patient's consent to texts or email is recorded; "
                  "its reminders are planned then."),
                reverse("admin:clinic_patient_change", args=[obj.patient_id]), _("Record consent on the patient"))
        to = obj.patient.phone if channel == Channel.SMS else obj.patient.email
        return format_html("{}: {}", Channel(channel).label, to)  # a phone number has its own parentheses

    @admin.display(description=_("blood-thinner holds"))
    def blood_thinner_holds(self, obj: Appointment) -> str:
        day = obj.procedure_start.astimezone(obj.location.zone).date()
        holds = blood_thinner_holds(patient=obj.patient, procedure_type=obj.procedure_type, procedure_day=day)
        if not holds:
            return _("None needed for this procedure and the patient's medicines.")
        late = {hold.drug for hold in holds_told_too_late(obj)}
        return format_html_join(mark_safe("<br>"), "{}{}", (
            (_("CHECK, the hold should have begun already: ") if hold.drug in late else "", hold.instruction())
            for hold in holds
        ))

    @admin.display(description=_("preparation"))
    def preparation(self, obj: Appointment) -> str:
        return " ".join(preparation_lines(obj.procedure_type)) or "-"

    def save_formset(self, request, form, formset, change):
        if formset.model is not Outcome:
            super().save_formset(request, form, formset, change)
            return
        # The one write path for outcomes (what a care plan waits for follows from it). Changed by
        # hand, the figures are staff's own, no longer the diary's.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if inline_form.has_changed():
                data, new = inline_form.cleaned_data, inline_form.instance.pk is None
                outcome = services.outcome_record(
                    appointment=form.instance, pain_before=data["pain_before"], pain_after=data["pain_after"],
                    relief_percent=data.get("relief_percent"), relief_duration_hours=data.get("relief_duration_hours"),
                    notes=data.get("notes", ""), by=request.user, source=OutcomeSource.STAFF)
                if new:  # for the change message in the admin's log
                    formset.new_objects.append(outcome)
                else:
                    formset.changed_objects.append((outcome, inline_form.changed_data))

    def save_model(self, request, obj, form, change):
        # Only a visit's notes are edited here; it was booked through the booking service.
        obj._history_user = request.user
        obj._change_reason = "Notes edited"
        super().save_model(request, obj, form, change)

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
        if obj is not None:
            for hold in holds_told_too_late(obj):
                self.message_user(request, _(
                    "Blood-thinner hold too late: the patient was told after the last day to take %(drug)s "
                    "(%(last_dose)s). Check with the patient before the procedure.") % {
                    "drug": hold.drug, "last_dose": f"{hold.last_dose:%a %Y-%m-%d}"}, messages.WARNING)
        if (obj is not None and obj.status in BEFORE_PROCEDURE_STATUSES
                and request.user.has_perm("scheduling.cancel_appointment")):
            context["cancel_url"] = reverse("admin:scheduling_appointment_cancel", args=[obj.pk],
                                            current_app=self.admin_site.name)
        if obj is not None:
            context["diary_confirm_url"] = diary_confirm_url(obj, request.user)
        if obj is not None and can_join(obj) and request.user.has_perm(JOIN_PERMISSION):
            context["waitlist_url"] = reverse("admin:scheduling_waitlistentry_join", args=[obj.pk],
                                              current_app=self.admin_site.name) + "?" + urlencode(
                                                  {"next": request.get_full_path()})
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
