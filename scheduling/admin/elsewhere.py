"""Procedures done elsewhere in the admin: recorded from the patient's page (an inline) or their own
list, by the front desk, nurses, physicians and the manager (clinic/roles.py)."""

from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from clinic.access_log import AccessLoggedAdmin
from clinic.admin import HistoryAdmin
from scheduling.models import ProcedureElsewhere


class _RecordedByFormSet(BaseInlineFormSet):
    """Saves who recorded each new row (the admin's user, set by `ProcedureElsewhereInline`)."""

    user = None

    def save_new(self, form, commit=True):
        form.instance.recorded_by = self.user
        form.instance._history_user = self.user
        return super().save_new(form, commit=commit)


class ProcedureElsewhereInline(admin.StackedInline):
    """New procedures done elsewhere, on the patient's page. Those on record are listed with the
    visits here (the patient overview) and corrected on their own page, where their history is.
    Stacked: each field keeps its label, and a form fits a phone's width."""

    model = ProcedureElsewhere
    formset = _RecordedByFormSet
    fields = ["procedure_type", "day", ("region", "laterality"), "relief_percent", "facility",
              "document_reference", "note"]
    extra = 0
    can_delete = False
    verbose_name = _("procedure done elsewhere")
    verbose_name_plural = _("Record a procedure done elsewhere")

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.user = request.user
        return formset

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "note":
            field.widget.attrs.update(rows=2)
        elif db_field.name == "relief_percent":
            field.widget.attrs.update(min=0, max=100)
        return field


@admin.register(ProcedureElsewhere)
class ProcedureElsewhereAdmin(AccessLoggedAdmin, HistoryAdmin):
    # Fits beside the sidebar and the filters at 1280 px: two short lines a cell.
    list_display = ["patient", "procedure", "day", "where", "relief", "documented"]
    list_display_links = ["patient", "procedure"]
    list_filter = ["procedure_type__family", "region"]
    search_fields = ["patient__last_name", "patient__first_name", "facility", "document_reference"]
    list_select_related = ["patient", "procedure_type"]
    autocomplete_fields = ["patient"]
    date_hierarchy = "day"
    readonly_fields = ["recorded_by_name", "recorded_at"]
    fieldsets = [
        (None, {"fields": ["patient", "procedure_type", "day", ("region", "laterality")]}),
        (_("Where and how it went"), {
            "fields": ["facility", "relief_percent", "document_reference", "note"],
            "description": _("The pathway rules count it like a procedure done here: always for yearly limits, "
                             "minimum intervals and repeats; toward a procedure that needs prior ones only where "
                             "the rule accepts procedures done elsewhere, and only with a document reference and "
                             "the relief recorded."),
        }),
        (None, {"fields": ["recorded_by_name", "recorded_at"]}),
    ]

    @admin.display(description=_("recorded by"))
    def recorded_by_name(self, obj: ProcedureElsewhere) -> str:
        # Plain text: the staff list the login would link to is the manager's.
        user = obj.recorded_by
        return (user.get_full_name() or user.get_username()) if user else "-"

    @admin.display(description=_("procedure"), ordering="procedure_type__name")
    def procedure(self, obj: ProcedureElsewhere) -> str:
        side = f", {obj.get_laterality_display().lower()}" if obj.laterality else ""
        return format_html("{}<br><small>{}{}</small>", obj.procedure_type.name, obj.get_region_display(), side)

    @admin.display(description=_("where"), ordering="facility")
    def where(self, obj: ProcedureElsewhere) -> str:
        reference = Truncator(obj.document_reference).chars(40)
        report = format_html("{} {}", _("report:"), reference) if obj.document_reference else _("no report on file")
        return format_html("{}<br><small>{}</small>", obj.facility, report)

    @admin.display(description=_("relief"), ordering="relief_percent")
    def relief(self, obj: ProcedureElsewhere) -> str:
        return f"{obj.relief_percent}%" if obj.relief_percent is not None else "-"

    @admin.display(description=_("documented"), boolean=True)
    def documented(self, obj: ProcedureElsewhere) -> bool:
        return obj.is_documented

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        obj._history_user = request.user
        super().save_model(request, obj, form, change)
