"""The waitlist in the admin: who would take an earlier time, and what they were offered.

Patients join from their visit's page; the front desk puts a caller on it from the patient's or
the visit's page ("Put on the waitlist…"), through the same service.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy as _

from clinic.admin import HistoryAdmin
from clinic.models import Patient
from scheduling import services
from scheduling.admin.forms import use_patient_picker
from scheduling.admin.reschedule import local_time
from scheduling.errors import BookingError
from scheduling.models import BOOKED_STATUSES, Appointment, WaitlistEntry, WaitlistOffer, WaitlistStatus
from scheduling.services.waitlist import NOT_UPCOMING

JOIN_PERMISSION = "scheduling.add_waitlistentry"


def can_join(appointment: Appointment) -> bool:
    """Whether the visit may go on the waitlist (the service says why not otherwise)."""
    return appointment.status in BOOKED_STATUSES and not appointment.follow_up_of_id


class OfferInline(admin.TabularInline):
    model = WaitlistOffer
    extra = 0
    can_delete = False
    fields = ["procedure_start", "physician", "status", "expires_at", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PatientChoiceForm(forms.Form):
    patient = forms.ModelChoiceField(queryset=Patient.objects.all(), label=_("Patient"))

    def __init__(self, data=None, *, admin_site):
        super().__init__(data)
        use_patient_picker(self.fields["patient"], admin_site)


class JoinForm(forms.Form):
    any_physician = forms.BooleanField(
        label=_("Any physician who performs it"), required=False,
        help_text=_("Offer earlier times with the other physicians too, not only the booked one."))


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(HistoryAdmin):
    list_display = ["appointment", "visit_time", "any_physician", "status", "created_at"]
    list_filter = ["status", "appointment__procedure_type", "appointment__location"]
    list_select_related = ["appointment__patient", "appointment__procedure_type", "appointment__location"]
    search_fields = ["appointment__patient__last_name", "appointment__patient__first_name"]
    fields = ["appointment", "any_physician", "status", "created_at"]
    readonly_fields = ["appointment", "created_at"]
    inlines = [OfferInline]

    @admin.display(description=_("visit"), ordering="appointment__procedure_start")
    def visit_time(self, entry: WaitlistEntry) -> str:
        appointment = entry.appointment
        return f"{appointment.procedure_start.astimezone(appointment.location.zone):%a %d %b %Y %H:%M %Z}"

    def add_view(self, request, form_url="", extra_context=None):
        """An entry belongs to a booked visit: choose the patient, then one of their upcoming
        visits on the patient's page ("Put on the waitlist…", see join_view)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PatientChoiceForm(request.GET or None, admin_site=self.admin_site)
        if form.is_bound and form.is_valid():
            return HttpResponseRedirect(
                reverse("admin:clinic_patient_change", args=[form.cleaned_data["patient"].pk]) + "#upcoming-visits")
        return TemplateResponse(request, "admin/scheduling/waitlistentry/choose_patient.html", {
            **self.admin_site.each_context(request),
            "title": _("Put a patient on the waitlist"),
            "form": form,
            "media": self.media + form.media,
            "opts": self.opts,
        })

    def get_urls(self):
        return [
            path("join/<int:appointment_id>/", self.admin_site.admin_view(self.join_view),
                 name="scheduling_waitlistentry_join"),
        ] + super().get_urls()

    def join_view(self, request, appointment_id: int):
        """Put one booked visit on the waitlist for an earlier time."""
        if not request.user.has_perm(JOIN_PERMISSION):
            raise PermissionDenied
        appointment = (Appointment.objects.select_related("patient", "location", "physician__user", "procedure_type")
                       .filter(pk=appointment_id).first())
        if appointment is None:
            self.message_user(request, gettext("That visit does not exist (it may have been deleted)."),
                              messages.WARNING)
            return HttpResponseRedirect(reverse("admin:scheduling_waitlistentry_changelist"))
        back = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            back = reverse("admin:clinic_patient_change", args=[appointment.patient_id])
        entry = WaitlistEntry.objects.filter(appointment=appointment).first()
        form = JoinForm(request.POST if request.method == "POST" else None,
                        initial={"any_physician": entry.any_physician if entry else False},
                        label_suffix="")  # the checkbox's label follows it
        if form.is_bound and form.is_valid():
            try:
                services.waitlist_join(appointment=appointment, any_physician=form.cleaned_data["any_physician"])
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, gettext(
                    "%(patient)s is on the waitlist for a time earlier than %(when)s; they will be offered one "
                    "if it frees up.") % {"patient": appointment.patient.full_name,
                                          "when": local_time(appointment)}, messages.SUCCESS)
                return HttpResponseRedirect(back)
        return TemplateResponse(request, "admin/scheduling/waitlistentry/join.html", {
            **self.admin_site.each_context(request),
            "title": _("Put on the waitlist for an earlier time"),
            "appointment": appointment,
            "when": local_time(appointment),
            "entry": entry if entry and entry.status == WaitlistStatus.WAITING else None,
            "can_join": can_join(appointment),
            "not_upcoming": NOT_UPCOMING,
            "form": form,
            "back": back,
            "opts": self.opts,
        })
