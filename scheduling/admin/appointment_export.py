"""The appointment list as CSV, with the list's current filters, search and order.

Two ways in: the list's "Export these to CSV" link exports every visit the list shows with
its filters (all pages), and the "Export selected to CSV" action exports the ticked rows.
Both reuse the changelist's own query, so what is exported is what the list shows."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from scheduling.admin.board.exports import csv_response


def _filename() -> str:
    return gettext("appointments-%(when)s.csv") % {"when": timezone.localtime().strftime("%Y%m%d-%H%M")}


class AppointmentExportMixin:
    def get_urls(self):
        opts = self.opts
        return [
            path("export.csv", self.admin_site.admin_view(self.export_csv_view),
                 name=f"{opts.app_label}_{opts.model_name}_export"),
        ] + super().get_urls()

    def export_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(gettext("The list's filters in this link are not valid; open the list "
                                                  "again and export from there."),
                                          content_type="text/plain; charset=utf-8")
        return csv_response(request, queryset, _filename())

    @admin.action(description=_("Export selected to CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return csv_response(request, queryset, _filename())

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_view_permission(request):
            actions["export_csv"] = self.get_action("export_csv")
        return actions

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "export_url_name": f"admin:{self.opts.app_label}_"
                                                                    f"{self.opts.model_name}_export"}
        return super().changelist_view(request, extra_context)
