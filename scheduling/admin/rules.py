"""Pathway rules in the admin: the clinic manager edits them."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from clinic.admin import HistoryAdmin
from scheduling.models import PathwayRule


@admin.register(PathwayRule)
class PathwayRuleAdmin(HistoryAdmin):
    list_display = ["procedure_type", "kind", "payer", "count", "min_relief_percent", "within_days",
                    "min_interval_days", "min_interval_months", "is_active", "source"]
    list_filter = ["kind", "payer", "is_active", "accepts_outside_procedures", "procedure_type"]
    search_fields = ["procedure_type__code", "procedure_type__name", "source"]
    list_select_related = ["procedure_type", "payer"]
    filter_horizontal = ["prerequisite_types"]
    fieldsets = [
        (None, {"fields": ["procedure_type", "kind", "payer", "is_active", "source"]}),
        (_("Figures"), {
            "fields": ["prerequisite_types", "count", "min_relief_percent", "within_days",
                       "accepts_outside_procedures", ("min_interval_days", "min_interval_months"), "same_region",
                       "same_side"],
            "description": _("Needs prior procedures: which types, how many, with what relief, within how many "
                             "days. Minimum interval: days or calendar months since the last one of the family. "
                             "At most N in 365 days: 'how many'. Repeat relief: the relief the last one gave."),
        }),
    ]
