"""The step before a webhook endpoint's secret is rotated: what the receiver needs, said once more.

Rotating is one POST to the secret page (`WebhookEndpointAdmin.secret_view`); its buttons lead here
first, and this page's form makes that POST."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _


class SecretRotationConfirmMixin:
    def get_urls(self):
        return [
            path("<path:object_id>/secret/rotate/", self.admin_site.admin_view(self.secret_rotate_confirm_view),
                 name="scheduling_webhookendpoint_secret_rotate"),
        ] + super().get_urls()

    def secret_rotate_confirm_view(self, request, object_id):
        endpoint = self.get_object(request, unquote(object_id))
        if endpoint is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        revoke = request.GET.get("revoke") == "1"
        secret_url = reverse("admin:scheduling_webhookendpoint_secret", args=[endpoint.pk])
        if revoke:
            warning = _("%(url)s refuses every delivery from the moment you confirm until its system has the new "
                        "secret: the old one stops verifying at once.") % {"url": endpoint.url}
        else:
            warning = _("%(url)s must have the new secret within 24 hours: until then deliveries carry a "
                        "signature with the old secret too; after that, its system refuses them until it is "
                        "updated.") % {"url": endpoint.url}
        context = {
            **self.admin_site.each_context(request), "opts": self.opts,
            "title": _("Rotate and revoke the secret of %(name)s?") if revoke
            else _("Rotate the secret of %(name)s?"),
            "warning": warning,
            "form_action": secret_url, "hidden": [("revoke", "1")] if revoke else [],
            "confirm_label": _("Yes, rotate and revoke") if revoke else _("Yes, rotate the secret"),
            "back_url": secret_url, "back_label": endpoint.name,
        }
        context["title"] = context["title"] % {"name": endpoint.name}
        return TemplateResponse(request, "admin/confirm_change.html", context)
