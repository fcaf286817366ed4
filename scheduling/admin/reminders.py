"""Reminders in the admin: each visit's messages and their delivery, plans per procedure type."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from clinic.admin import HistoryAdmin
from scheduling.models import Reminder, ReminderAttempt, ReminderStatus, ReminderStep
from scheduling.reminders.dispatch import reminder_retry


def delivery_text(reminder: Reminder) -> str:
    """What the SMS provider last reported: "Delivered", "Not delivered (30003)"; "" before any."""
    if not reminder.delivery_status:
        return ""
    label = reminder.get_delivery_status_display()
    return f"{label} ({reminder.delivery_error_code})" if reminder.delivery_error_code else str(label)


class ReminderInline(admin.TabularInline):
    model = Reminder
    extra = 0
    can_delete = False
    fields = ["kind", "channel", "due_at", "status", "attempts", "sent_at", "delivery", "last_error"]
    readonly_fields = fields
    ordering = ["due_at"]
    verbose_name_plural = _("reminders")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("delivery"))
    def delivery(self, obj: Reminder) -> str:
        return delivery_text(obj)


class AttemptInline(admin.TabularInline):
    model = ReminderAttempt
    extra = 0
    can_delete = False
    fields = ["at", "outcome", "error", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["due_at", "kind", "channel", "status", "delivery", "attempts", "appointment", "order",
                    "last_error"]
    list_filter = ["status", "delivery_status", "kind", "channel"]
    search_fields = ["appointment__patient__last_name", "order__patient__last_name", "idempotency_key",
                     "=provider_message_id"]
    list_select_related = ["appointment__patient", "appointment__procedure_type", "appointment__location",
                           "order__patient", "order__procedure_type"]
    date_hierarchy = "due_at"
    inlines = [AttemptInline]
    actions = ["retry"]
    readonly_fields = ["appointment", "order", "kind", "channel", "due_at", "status", "attempts", "next_attempt_at",
                       "claimed_at", "claim_token", "last_error", "sent_at", "idempotency_key", "context",
                       "provider_message_id", "delivery_status", "delivery_error_code", "delivery_reported_at"]

    @admin.display(description=_("delivery"), ordering="delivery_status")
    def delivery(self, obj: Reminder) -> str:
        return delivery_text(obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read only: a failed reminder is retried from the list, never edited.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Retry failed reminders now"))
    def retry(self, request, queryset):
        if not request.user.has_perm("scheduling.change_reminder"):
            raise PermissionDenied
        retried = sum(reminder_retry(reminder) for reminder in queryset.filter(status=ReminderStatus.FAILED))
        self.message_user(request, f"{retried} reminder(s) will be sent again within a minute.", messages.SUCCESS)


@admin.register(ReminderStep)
class ReminderStepAdmin(HistoryAdmin):
    list_display = ["procedure_type", "kind", "describe", "is_active"]
    list_filter = ["kind", "anchor", "is_active", "procedure_type"]
    list_select_related = ["procedure_type"]
    search_fields = ["procedure_type__code", "procedure_type__name"]

    @admin.display(description=_("when"))
    def describe(self, obj: ReminderStep) -> str:
        return obj.describe()
