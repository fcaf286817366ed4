"""Procedures done elsewhere in the admin: recorded from the patient's page (an inline) or their own
list, by the front desk, nurses, physicians and the manager (clinic/roles.py)."""

from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from clinic.access_log import AccessLoggedAdmin
from clinic.admin import HistoryAdmin
from scheduling.models import ProcedureElsewhere

FIELDS = ["procedure_type", "day", "region", "laterality", "relief_percent", "facility", "document_reference",
          "note"]


class _RecordedByFormSet(BaseInlineFormSet):
    """Saves who recorded each new row (the admin's user, set by `ProcedureElsewhereInline`)."""

    user = None

    def save_new(self, form, commit=True):
        form.instance.recorded_by = self.user
        form.instance._history_user = self.user
        return super().save_new(form, commit=commit)


class ProcedureElsewhereInline(admin.TabularInline):
    """New procedures done elsewhere, on the patient's page. Those on record are listed with the
    visits here (the patient overview) and corrected on their own page, where their history is."""

    model = ProcedureElsewhere
    formset = _RecordedByFormSet
    fields = FIELDS
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
            field.widget.attrs.update(rows=2, cols=24)
        elif db_field.name in {"facility", "document_reference"}:
            field.widget.attrs.update(size=18)
        elif db_field.name == "relief_percent":
            field.widget.attrs.update(min=0, max=100)
        return field


@admin.register(ProcedureElsewhere)
class ProcedureElsewhereAdmin(AccessLoggedAdmin, HistoryAdmin):
    list_display = ["patient", "procedure_type", "day", "region", "laterality", "relief", "facility", "documented",
                    "recorded_by"]
    list_display_links = ["patient", "procedure_type"]
    list_filter = ["procedure_type", "region", "day"]
    search_fields = ["patient__last_name", "patient__first_name", "facility", "document_reference"]
    list_select_related = ["patient", "procedure_type", "recorded_by"]
    autocomplete_fields = ["patient"]
    date_hierarchy = "day"
    readonly_fields = ["recorded_by", "recorded_at"]
    fieldsets = [
        (None, {"fields": ["patient", "procedure_type", "day", ("region", "laterality")]}),
        (_("Where and how it went"), {
            "fields": ["facility", "relief_percent", "document_reference", "note"],
            "description": _("The pathway rules count it like a procedure done here: always for yearly limits, "
                             "minimum intervals and repeats; toward a procedure that needs prior ones only where "
                             "the rule accepts procedures done elsewhere, and only with a document reference and "
                             "the relief recorded."),
        }),
        (None, {"fields": ["recorded_by", "recorded_at"]}),
    ]

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
