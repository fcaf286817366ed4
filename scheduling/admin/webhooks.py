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
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

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
    events = forms.MultipleChoiceField(label=_("Events"), choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple,
                                       help_text=_("Sent in the Interval-Event header and the body's type."))

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "is_active", "may_receive_patient_data"]

    def clean_url(self):
        return validate_webhook_url(self.cleaned_data["url"])

    def clean_events(self):
        return validate_events(list(self.cleaned_data["events"]))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["name", "url", "event_list", "is_active", "may_receive_patient_data", "secret_hint",
                    "deliveries_link"]
    list_filter = ["is_active", "may_receive_patient_data"]
    search_fields = ["name", "url"]
    readonly_fields = ["signing_secret", "secret_rotated_at", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "url", "events", "is_active", "may_receive_patient_data"]}),
        (_("Signing"), {"fields": ["signing_secret", "secret_rotated_at", "created_at"]}),
    ]

    @admin.display(description=_("events"))
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

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


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["at", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    verbose_name_plural = _("attempts")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    # What and whether first: the list scrolls sideways on a phone.
    list_display = ["event_kind", "status", "endpoint", "subject", "attempts", "created_at", "next_attempt_at",
                    "last_error"]
    list_filter = ["status", "endpoint", "event__kind"]
    search_fields = ["subject", "event__public_id"]
    list_select_related = ["event", "endpoint"]
    inlines = [AttemptInline]
    actions = ["retry_now"]
    fields = ["event_id_header", "event_kind", "endpoint", "subject", "status", "attempts", "next_attempt_at",
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
            self.message_user(request, _t("%(count)d delivery(ies) will be attempted again within a minute; a "
                                          "later event about the same visit waits for them.") % {"count": retried},
                              messages.SUCCESS)
