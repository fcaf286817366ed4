"""A visit's pre-procedure checks on its admin page, read-only: they are recorded at check-in
(`/admin/board/visit/<id>/check-in/`) by whoever saw them."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from scheduling.models import PreProcedureCheck


class PreProcedureCheckInline(admin.TabularInline):
    model = PreProcedureCheck
    extra = 0
    can_delete = False
    fields = ["kind", "detail", "confirmed_by", "confirmed_at", "missing_reason"]
    readonly_fields = fields
    verbose_name_plural = _("pre-procedure checks (recorded at check-in)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Whoever may see the visit may see its checks; they are part of it, not a list of their own.
        return request.user.has_perm("scheduling.view_appointment")
