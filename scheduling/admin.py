"""Staff admin for the calendar: booking from available slots, the visit's lifecycle, orders."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from clinic.models import Location, Physician, ProcedureType
from scheduling import services
from scheduling.errors import BookingError
from scheduling.models import Appointment, ProcedureOrder
from scheduling.selectors import available_slots

SLOT_SEARCH_DAYS = 14
SLOT_CHOICES_LIMIT = 60


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

    class Meta:
        model = Appointment
        fields = ["patient", "procedure_type", "notes"]

    def __init__(self, *args, **kwargs):
        self.request = kwargs.pop("request", None)
        super().__init__(*args, **kwargs)
        self.fields["procedure_type"].queryset = ProcedureType.objects.filter(is_active=True)
        locations = list(self.fields["location"].queryset[:2])
        if len(locations) == 1:
            self.fields["location"].initial = locations[0]
        self.fields["day"].initial = timezone.localdate()
        self.booked: Appointment | None = None

    def _offer_slots(self, cleaned) -> list:
        location = cleaned["location"]
        zone = location.zone
        first_day = cleaned["day"]
        slots = available_slots(
            procedure_type=cleaned["procedure_type"], location=location, first_day=first_day,
            last_day=first_day + dt.timedelta(days=SLOT_SEARCH_DAYS), now=timezone.now(),
            physician=cleaned.get("physician_choice"), patient=cleaned["patient"], limit=SLOT_CHOICES_LIMIT,
            apply_minimum_notice=False,
        )
        names = {p.pk: p.name for p in Physician.objects.filter(pk__in={s.physician_id for s in slots}).select_related("user")}
        rooms = dict(location.rooms.values_list("pk", "name"))
        self.fields["slot"].widget.choices = [("", _("Choose a time"))] + [
            (
                f"{slot.start.isoformat()}|{slot.physician_id}|{slot.room_id}",
                f"{slot.start.astimezone(zone):%a %d %b %H:%M} — {names[slot.physician_id]}, {rooms[slot.room_id]} "
                f"(arrive {slot.arrival.astimezone(zone):%H:%M})",
            )
            for slot in slots
        ]
        return slots

    def clean(self):
        cleaned = super().clean()
        if self.errors or not all(cleaned.get(name) for name in ("patient", "procedure_type", "location", "day")):
            return cleaned
        chosen = self.data.get(self.add_prefix("slot"))
        slots = self._offer_slots(cleaned)
        if not chosen:
            if not slots:
                raise forms.ValidationError(_("No free times in the %(days)s days from that day; try a later day."),
                                            params={"days": SLOT_SEARCH_DAYS + 1})
            self.add_error("slot", _("Choose one of the available times."))
            return cleaned
        try:
            start_text, physician_id, room_id = chosen.split("|")
            start = dt.datetime.fromisoformat(start_text)
            physician = Physician.objects.get(pk=int(physician_id))
            room = cleaned["location"].rooms.get(pk=int(room_id))
        except (ValueError, Physician.DoesNotExist, cleaned["location"].rooms.model.DoesNotExist):
            self.add_error("slot", _("Choose one of the available times."))
            return cleaned
        try:
            self.booked = services.appointment_book(
                patient=cleaned["patient"], procedure_type=cleaned["procedure_type"], physician=physician,
                start=start, room=room, booked_by=getattr(self.request, "user", None),
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


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.TextInput(attrs={"size": 60}))


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
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
                     "procedure_start", "procedure_end", "discharge", "room_start", "room_end", "booked_by",
                     "cancel_reason", "cancelled_by", "cancelled_at", "notes"]

    @admin.display(description=_("start (local)"), ordering="procedure_start")
    def local_start(self, obj: Appointment) -> str:
        return f"{obj.procedure_start.astimezone(obj.location.zone):%Y-%m-%d %H:%M %Z}"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            form = AppointmentBookingForm

            class RequestBound(form):
                def __init__(self, *args, **inner):
                    super().__init__(*args, request=request, **inner)

            return RequestBound
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["patient", "procedure_type", "location", "physician_choice", "day", "slot", "notes"]
        return self.change_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [name for name in self.change_fields if name != "notes"]

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

    def get_actions(self, request):
        actions = super().get_actions(request)
        needs = {"check_in": "check_in_appointment", "start": "progress_appointment",
                 "move_to_recovery": "progress_appointment", "complete": "progress_appointment",
                 "mark_no_show": "no_show_appointment", "cancel": "cancel_appointment"}
        for name, permission in needs.items():
            if name in actions and not request.user.has_perm(f"scheduling.{permission}"):
                del actions[name]
        return actions


@admin.register(ProcedureOrder)
class ProcedureOrderAdmin(SimpleHistoryAdmin):
    list_display = ["patient", "procedure_type", "ordering_physician", "status", "created_at"]
    list_filter = ["status", "procedure_type", "ordering_physician"]
    search_fields = ["patient__last_name", "patient__first_name", "procedure_type__code"]
    list_select_related = ["patient", "procedure_type", "ordering_physician__user"]
    autocomplete_fields = ["patient"]
    date_hierarchy = "created_at"
