"""The waitlist in the admin: who would take an earlier time, and what they were offered."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from scheduling.models import WaitlistEntry, WaitlistOffer


class OfferInline(admin.TabularInline):
    model = WaitlistOffer
    extra = 0
    can_delete = False
    fields = ["procedure_start", "physician", "status", "expires_at", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    """Patients join from their visit's page; staff see the list and the offers made."""

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

    def has_add_permission(self, request) -> bool:
        return False
