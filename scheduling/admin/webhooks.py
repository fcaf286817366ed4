"""Webhooks in the admin: the manager's endpoints and their secrets; deliveries and their attempts."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _t
from django.utils.translation import ngettext
from django.utils.translation import gettext_lazy as _

from scheduling.admin.webhook_secret import SecretRotationConfirmMixin
from scheduling.errors import DeliveryOvertaken
from scheduling.models import (
    EVENT_CHOICES,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from scheduling.webhooks.delivery import webhook_delivery_retry
from scheduling.webhooks.endpoints import validate_events, validate_webhook_url, webhook_secret_rotate
from scheduling.webhooks.events import event_body


class EndpointForm(forms.ModelForm):
    url = forms.CharField(label=_("URL"), max_length=500, widget=forms.TextInput(attrs={"class": "vURLField"}),
                          help_text=WebhookEndpoint._meta.get_field("url").help_text)
    events = forms.MultipleChoiceField(label=_("Events"), choices=EVENT_CHOICES,
                                       widget=forms.CheckboxSelectMultiple(attrs={"class": "checkbox-choices"}),
                                       help_text=_("Sent in the Interval-Event header and the body's type."))

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "is_active", "may_receive_patient_data"]

    def clean_url(self):
        return validate_webhook_url(self.cleaned_data["url"])

    def clean_events(self):
        return validate_events(list(self.cleaned_data["events"]))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SecretRotationConfirmMixin, admin.ModelAdmin):
    form = EndpointForm
    # Fits beside the sidebar and the filters at 1280 px: the name over its address, the events one
    # to a line, yes/no icons under short headings.
    list_display = ["name_and_url", "event_list", "is_active", "patient_data", "secret_hint",
                    "deliveries_link"]
    list_filter = ["is_active", "may_receive_patient_data"]
    search_fields = ["name", "url"]
    readonly_fields = ["signing_secret", "secret_rotated_at", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "url", "events", "is_active", "may_receive_patient_data"]}),
        (_("Signing"), {"fields": ["signing_secret", "secret_rotated_at", "created_at"]}),
    ]

    @admin.display(description=_("endpoint"), ordering="name")
    def name_and_url(self, endpoint: WebhookEndpoint) -> str:
        return format_html('{}<br><small class="webhook-url">{}</small>', endpoint.name, endpoint.url)

    @admin.display(description=_("events"))
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return format_html_join(mark_safe("<br>"), "{}", ((event,) for event in endpoint.events))

    @admin.display(description=_("patient data"), boolean=True, ordering="may_receive_patient_data")
    def patient_data(self, endpoint: WebhookEndpoint) -> bool:
        return endpoint.may_receive_patient_data

    @admin.display(description=_("secret"))
    def secret_hint(self, endpoint: WebhookEndpoint) -> str:
        return endpoint.secret_hint

    @admin.display(description=_("deliveries"))
    def deliveries_link(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:scheduling_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        return format_html('<a href="{}">{}</a>', url, _t("Deliveries"))

    @admin.display(description=_("signing secret"))
    def signing_secret(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return _t("Made when the endpoint is saved, and shown to you then.")
        url = reverse("admin:scheduling_webhookendpoint_secret", args=[endpoint.pk])
        return format_html('{} <a class="button" href="{}">{}</a>', endpoint.secret_hint, url,
                           _t("Reveal or rotate"))

    def get_urls(self):
        return [
            path("<path:object_id>/secret/", self.admin_site.admin_view(self.secret_view),
                 name="scheduling_webhookendpoint_secret"),
        ] + super().get_urls()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            self.message_user(request, _t(
                "Copy the signing secret for %(name)s into the receiving system now: %(secret)s — it is not shown "
                "again here (managers can reveal or rotate it from the endpoint).") % {
                "name": obj.name, "secret": obj.secret}, messages.SUCCESS)

    def secret_view(self, request, object_id):
        """The secret, for a manager setting up the receiver; POST rotates it."""
        endpoint = self.get_object(request, unquote(object_id))
        if endpoint is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        if request.method == "POST":
            revoke = request.POST.get("revoke") == "1"
            webhook_secret_rotate(endpoint=endpoint, keep_previous=not revoke)
            self.message_user(request, _t(
                "A new secret signs every delivery from now on; the old one no longer verifies. Put the new one "
                "into the receiving system.") if revoke else _t(
                "A new secret signs every delivery from now on; for 24 hours the old one signs them too. Put the "
                "new one into the receiving system before then."), messages.WARNING)
            return redirect("admin:scheduling_webhookendpoint_secret", endpoint.pk)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "endpoint": endpoint,
                   "title": _t("Signing secret of %(name)s") % {"name": endpoint.name}}
        # admin_view marks the page never to be cached.
        return TemplateResponse(request, "admin/scheduling/webhookendpoint/secret.html", context)


# The last error in the list: enough to tell a timeout from a refusal; the delivery's page has it whole.
LAST_ERROR_CHARS = 60


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["at", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    verbose_name_plural = _("attempts")

    def has_add_permission(self, request, obj=None):
        return False


def _when(moment) -> str:
    """A time in the clinic's zone as the other lists show it: the day over the time and its zone."""
    local = timezone.localtime(moment)
    return format_html('<span class="nowrap">{}</span><br>{}', f"{local:%Y-%m-%d}", f"{local:%H:%M %Z}")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    # Fits beside the sidebar and the filters at 1280 px: what, whom it is about and where it goes in one
    # cell (the endpoint is a filter too), the status over the attempts, times in two short lines, and the
    # last error cut short (whole on the delivery's page).
    list_display = ["event_and_subject", "status_and_attempts", "created", "next_attempt", "last_error_short"]
    list_filter = ["status", "endpoint", "event__kind"]
    search_fields = ["subject", "event__public_id"]
    list_select_related = ["event", "endpoint"]
    inlines = [AttemptInline]
    actions = ["retry_now"]
    fields = ["event_id_header", "event_kind", "endpoint", "subject", "status", "attempts", "next_attempt",
              "delivered_at", "last_error", "body"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a record of what was sent; "Retry now" is the one change, and checks its own permission

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("event"), ordering="event__kind")
    def event_kind(self, delivery: WebhookDelivery) -> str:
        return delivery.event.kind

    @admin.display(description=_("event, about, to"), ordering="event__kind")
    def event_and_subject(self, delivery: WebhookDelivery) -> str:
        # appointment.status_changed may break after its dot rather than widen the list.
        kind = mark_safe(".<wbr>".join(conditional_escape(part) for part in delivery.event.kind.split(".")))
        return format_html("{}<br><small>{}<br>{}</small>", kind, delivery.subject, delivery.endpoint.name)

    @admin.display(description=_("status"), ordering="status")
    def status_and_attempts(self, delivery: WebhookDelivery) -> str:
        attempts = ngettext("%(count)d attempt", "%(count)d attempts", delivery.attempts) % {
            "count": delivery.attempts}
        return format_html("{}<br><small>{}</small>", delivery.get_status_display(), attempts)

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, delivery: WebhookDelivery) -> str:
        return _when(delivery.created_at)

    @admin.display(description=_("next attempt"), ordering="next_attempt_at")
    def next_attempt(self, delivery: WebhookDelivery) -> str:
        # Only a delivery still waiting for its (next) attempt has one; a delivered or given-up one keeps
        # the time of its last schedule in the row, which would read as a send still to come.
        if delivery.status != DeliveryStatus.PENDING:
            return "-"
        return _when(delivery.next_attempt_at)

    @admin.display(description=_("last error"))
    def last_error_short(self, delivery: WebhookDelivery) -> str:
        if not delivery.last_error:
            return ""
        return format_html('<span title="{}">{}</span>', delivery.last_error,
                           Truncator(delivery.last_error).chars(LAST_ERROR_CHARS))

    @admin.display(description=_("Interval-Webhook-Id"))
    def event_id_header(self, delivery: WebhookDelivery) -> str:
        return delivery.event.public_id

    @admin.display(description=_("body, as this endpoint receives it"))
    def body(self, delivery: WebhookDelivery) -> str:
        data = event_body(delivery.event, patient_data=delivery.endpoint.may_receive_patient_data)
        return format_html("<pre>{}</pre>", json.dumps(data, indent=2, ensure_ascii=False))

    @admin.action(description=_("Retry now"))
    def retry_now(self, request, queryset):
        if not request.user.has_perm("scheduling.change_webhookdelivery"):
            raise PermissionDenied
        retried = 0
        for delivery in queryset.filter(status__in=[DeliveryStatus.FAILED, DeliveryStatus.PENDING]).order_by("pk"):
            try:
                retried += webhook_delivery_retry(delivery)
            except DeliveryOvertaken as refused:
                self.message_user(request, refused.message, messages.WARNING)
        if retried:
            self.message_user(request, ngettext(
                "%(count)d delivery will be attempted again within a minute; a later event about the same visit "
                "waits for it.",
                "%(count)d deliveries will be attempted again within a minute; a later event about the same visit "
                "waits for them.", retried) % {"count": retried}, messages.SUCCESS)
