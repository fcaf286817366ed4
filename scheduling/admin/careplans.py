"""Care plans in the admin: the manager keeps the templates (inline steps, in order); a physician
creates a patient's plan from a template or from steps, edits its steps, and sees its proposed
timeline, with Book and Send the booking link for the step whose turn it is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _

from clinic.access_log import AccessLoggedAdmin
from clinic.admin import HistoryAdmin
from clinic.models import Physician
from scheduling.admin.careplan_decisions import CarePlanDecisionsMixin
from scheduling.admin.orders import link_refusal_html
from scheduling.admin.patients import BOOK_PERMISSION, book_url
from scheduling.careplans.gates import gate_words
from scheduling.careplans.planning import PlanInputs
from scheduling.careplans.selectors import LinkSent, last_booking_links
from scheduling.careplans.steps import GONE, plan_steps, step_visit
from scheduling.models import (
    STEP_FIELDS,
    CarePlan,
    CarePlanStep,
    CarePlanTemplate,
    CarePlanTemplateStep,
    Gate,
    OrderStatus,
    PlanStatus,
    StepStatus,
    relief_gate_error,
)
from scheduling.selectors import available_slots
from scheduling.services.careplans import OPEN_FOR_PLANNING, plan_create, plan_replan, plan_steps_sync
from scheduling.services.order_links import order_link_offer

STEP_FORM_FIELDS = ["position", *STEP_FIELDS]
# A booking link is sent again on request, but not within this long of the last one (a double click).
RESEND_AFTER = dt.timedelta(minutes=10)
# Plans with nothing left to plan: "Plan again" is not offered.
CLOSED_PLANS = (PlanStatus.ENDED, PlanStatus.COMPLETED)


class LabelledInline(admin.TabularInline):
    """A table of steps names its fields only in the column heads: each input carries its label
    too, for screen readers."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name == "position":
            field.label = _("Step")  # not "Order": the plan's steps have an order column too
        if field is not None:
            field.widget.attrs.setdefault("aria-label", str(field.label))  # shared with a related-field wrapper
        return field

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class Labelled(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                if "DELETE" in form.fields:  # the delete box, labelled like the inputs
                    form.fields["DELETE"].widget.attrs.setdefault("aria-label", gettext("Delete"))

        return Labelled


def kept_steps(formset, gone=()) -> list[dict]:
    """The steps a formset will leave, in order: each form's cleaned values (empty extra rows,
    deleted rows and steps whose status is in `gone` left out), for the rules on the sequence."""
    kept = []
    for form in formset.forms:
        values = getattr(form, "cleaned_data", None)
        if not values or formset._should_delete_form(form) or (form.instance.pk is None and not form.has_changed()):
            continue
        if form.instance.pk and getattr(form.instance, "status", None) in gone:
            continue
        kept.append(values)
    return sorted(kept, key=lambda values: values.get("position") or 0)


def check_relief_gates(formset, gone=()) -> None:
    problem = relief_gate_error(kept_steps(formset, gone))
    if problem:
        raise ValidationError(problem)


class TemplateStepFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        check_relief_gates(self)


class TemplateStepInline(LabelledInline):
    model = CarePlanTemplateStep
    formset = TemplateStepFormSet
    fields = STEP_FORM_FIELDS
    extra = 1
    ordering = ["position"]


@admin.register(CarePlanTemplate)
class CarePlanTemplateAdmin(HistoryAdmin):
    list_display = ["name", "is_active", "step_count"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [TemplateStepInline]
    change_form_template = "admin/scheduling/careplantemplate/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(step_total=Count("steps"))

    @admin.display(description=_("steps"), ordering="step_total")
    def step_count(self, obj) -> int:
        return obj.step_total


class PlanStepFormSet(forms.BaseInlineFormSet):
    """New plans: from a template or from steps written here, not both. Later: a step that is
    booked, done or stopped keeps what it was (change its visit, or decide on the plan)."""

    def clean(self):
        super().clean()
        written = [form for form in self.forms if form.has_changed() and not self._should_delete_form(form)]
        if self.instance.pk is None:
            if self.instance.template_id and written:
                raise ValidationError(_("Start from the template or write the steps here, not both: leave the "
                                        "steps empty to copy the template's."))
            if not self.instance.template_id and not written:
                raise ValidationError(_("Choose a template, or write the plan's steps here."))
            if written:
                check_relief_gates(self)
            return
        for form in written:
            step = form.instance
            status = form.initial.get("status", step.status)
            if step.pk and status == StepStatus.STOPPED:
                self._check_stopped(form, step)
            elif step.pk and status not in OPEN_FOR_PLANNING:
                raise ValidationError(gettext("Step %(position)s is %(status)s: it cannot be changed here.") % {
                    "position": form.initial.get("position"), "status": step.get_status_display().lower()})
        if written:
            check_relief_gates(self, gone=GONE)


    def _check_stopped(self, form, step: CarePlanStep) -> None:
        """A step stopped at its gate: the physician may change what the gate judges (gate, relief
        threshold), its waits and note, and its procedure while its order is not booked; then Resume
        judges it again."""
        changed = set(form.changed_data)
        refused = sorted(changed - set(STOPPED_STEP_EDITABLE))
        position = form.initial.get("position")
        if refused:
            names = ", ".join(str(form.fields[name].label).lower() for name in refused if name in form.fields)
            raise ValidationError(gettext("Step %(position)s is stopped at its gate: only its gate, relief "
                                          "threshold, waits, note and procedure type can be changed here "
                                          "(not %(names)s).") % {"position": position, "names": names})
        if "procedure_type" in changed and step.order_id and step_visit(step) is not None:
            raise ValidationError(gettext("Step %(position)s is booked on its order: change the visit before "
                                          "its procedure type.") % {"position": position})


# What a physician may change on a step stopped at its gate, before resuming the plan.
STOPPED_STEP_EDITABLE = ("gate", "gate_relief_percent", "min_days_after", "max_days_after", "note",
                         "procedure_type")


class PlanStepInline(LabelledInline):
    model = CarePlanStep
    formset = PlanStepFormSet
    fields = [*STEP_FORM_FIELDS, "status", "order_link"]  # days and flags: on the timeline above
    readonly_fields = ["status", "order_link"]
    extra = 2
    can_delete = False  # a step is skipped or cancelled, not deleted: the plan's history keeps it
    ordering = ["position"]

    @admin.display(description=_("order"))
    def order_link(self, obj) -> str:
        if obj is None or not obj.order_id:
            return "-"
        return format_html('<a href="{}">#{}</a>', reverse("admin:scheduling_procedureorder_change",
                                                           args=[obj.order_id]), obj.order_id)


class CarePlanForm(forms.ModelForm):
    class Meta:
        model = CarePlan
        fields = ["patient", "physician", "template", "name", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" in self.fields:
            self.fields["name"].required = False
            self.fields["name"].help_text = _("Empty: the template's name.")
        if "template" in self.fields:
            self.fields["template"].queryset = CarePlanTemplate.objects.filter(is_active=True)
            self.fields["template"].help_text = _("Its steps are copied into the plan; leave it empty to write "
                                                  "the steps below.")

    def clean_name(self):
        return self.cleaned_data.get("name") or ""

    def _post_clean(self):
        # The model's name is required; an empty one is filled from the template by the service.
        if not self.cleaned_data.get("name"):
            self.instance.name = getattr(self.cleaned_data.get("template"), "name", "") or gettext("Care plan")
        super()._post_clean()


@dataclass
class TimelineRow:
    step: CarePlanStep
    visit: object = None
    book_url: str = ""
    may_send_link: bool = False
    link: LinkSent | None = None  # the booking link last queued or sent for the step's order
    gate_words: str = ""  # what its gate asks, with the relief threshold it will use


@admin.register(CarePlan)
class CarePlanAdmin(CarePlanDecisionsMixin, AccessLoggedAdmin, HistoryAdmin):
    form = CarePlanForm
    inlines = [PlanStepInline]
    list_display = ["patient", "name", "physician", "status", "created_at"]
    list_filter = ["status", "physician", "template"]
    search_fields = ["patient__last_name", "patient__first_name", "name"]
    list_select_related = ["patient", "physician__user"]
    autocomplete_fields = ["patient"]
    readonly_fields = ["created_by", "created_at"]
    change_form_template = "admin/scheduling/careplan/change_form.html"

    # The status and why come first, in the decisions' section (CarePlanDecisionsMixin).
    fieldsets = [(None, {"fields": ["patient", "physician", "name", "notes"]}),
                 (_("Record"), {"fields": ["template", "created_by", "created_at"], "classes": ["collapse"]})]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["patient", "physician", "template", "name", "notes"]})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*super().get_readonly_fields(request, obj), "patient", "template"]

    def get_urls(self):
        urls = [path("<int:plan_id>/replan/", self.admin_site.admin_view(self.replan_view),
                     name="scheduling_careplan_replan"),
                path("<int:plan_id>/send-link/", self.admin_site.admin_view(self.send_link_view),
                     name="scheduling_careplan_send_link")]
        return urls + super().get_urls()

    # The timeline ------------------------------------------------------------------------------

    def timeline_rows(self, request, plan: CarePlan) -> list[TimelineRow]:
        rows = []
        may_book = request.user.has_perm(BOOK_PERMISSION)
        may_send = request.user.has_perm("scheduling.view_procedureorder")
        steps = plan_steps(plan)
        links = last_booking_links([step.order_id for step in steps])
        for step in steps:
            row = TimelineRow(step=step, visit=step_visit(step), link=links.get(step.order_id),
                              gate_words=gate_words(step, steps) if step.gate != Gate.NONE else "")
            bookable = (step.status == StepStatus.READY and step.booked_here and step.order_id
                        and step.order.status == OrderStatus.OPEN and row.visit is None)
            if bookable and may_book:
                row.book_url = self._book_url(plan, step)
            row.may_send_link = bool(bookable and may_send)
            rows.append(row)
        return rows

    def _book_url(self, plan: CarePlan, step: CarePlanStep) -> str:
        """The one-step booking page with the step's order, the plan's physician and the first free
        time of the proposed day (the booking page searches from that day when it is gone)."""
        url = book_url(plan.patient, step.order)
        query = {"physician": plan.physician_id}
        if step.proposed_date:
            inputs = PlanInputs(plan, [step], now=timezone.now())
            location = (inputs.locations_for(step.procedure_type) or [None])[0]
            slots = available_slots(procedure_type=step.procedure_type, location=location,
                                    first_day=step.proposed_date, last_day=step.proposed_date, now=timezone.now(),
                                    physician=plan.physician, patient=plan.patient, limit=1) if location else []
            if slots:
                query["start"] = slots[0].start.isoformat()
            else:
                query["day"] = step.proposed_date.isoformat()
        return f"{url}&{urlencode(query)}"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["timeline_rows"] = self.timeline_rows(request, obj)
            context["plan"] = obj
            context["may_replan"] = self.has_change_permission(request, obj) and obj.status not in CLOSED_PLANS
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "physician":
            kwargs["queryset"] = Physician.objects.filter(is_active=True).select_related("user")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Saving through the services ---------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            obj._history_user = request.user
            super().save_model(request, obj, form, change)
        # A new plan is made by `plan_create` with its steps, in save_related.

    def save_formset(self, request, form, formset, change):
        if not change:  # the steps go to the service with the plan (save_related)
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        for step in formset.save(commit=False):
            step._history_user = request.user
            step.save()

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
            plan_steps_sync(form.instance, by=request.user)
            return
        super().save_related(request, form, formsets, change)  # marks the formsets saved (no steps yet)
        cleaned = form.cleaned_data
        steps = None
        if not cleaned.get("template"):
            written = sorted((step_form for formset in formsets for step_form in formset.forms
                              if step_form.has_changed()), key=lambda step_form: step_form.cleaned_data["position"])
            steps = [{name: step_form.cleaned_data.get(name) for name in STEP_FIELDS} for step_form in written]
        # The form and its step formsets checked what the service checks; a refusal here is a bug.
        plan = plan_create(patient=cleaned["patient"], physician=cleaned["physician"],
                           template=cleaned.get("template"), steps=steps, name=cleaned.get("name", ""),
                           notes=cleaned.get("notes", ""), by=request.user)
        form.instance.__dict__.update(plan.__dict__)  # the admin logs and redirects to this same object

    def response_add(self, request, obj, post_url_continue=None):
        if "_addanother" not in request.POST and IS_POPUP_VAR not in request.POST:
            request.POST = request.POST.copy()
            request.POST["_continue"] = "1"  # a new plan opens on its proposed timeline
        return super().response_add(request, obj, post_url_continue)

    # Buttons on the timeline -------------------------------------------------------------------

    def replan_view(self, request, plan_id: int):
        plan = get_object_or_404(CarePlan, pk=plan_id)
        if request.method != "POST" or not self.has_change_permission(request, plan):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:scheduling_careplan_change", args=[plan.pk]))
        if plan.status in CLOSED_PLANS:
            self.message_user(request, gettext("Not planned again: the plan is %(status)s.") % {
                "status": plan.get_status_display().lower()}, messages.WARNING)
            return back
        before = {step.pk: step.proposed_date for step in plan.steps.filter(status__in=OPEN_FOR_PLANNING)}
        plan_replan(plan, by=request.user)
        after = {step.pk: step.proposed_date for step in plan.steps.filter(status__in=OPEN_FOR_PLANNING)}
        stopped = plan.steps.filter(status=StepStatus.STOPPED).order_by("position").first()
        if stopped is not None or not after:
            words = (gettext("Nothing to plan again: step %(position)s is stopped at its gate and the steps after it "
                             "have no day until the physician decides.") % {"position": stopped.position} if stopped
                     else gettext("Nothing to plan again: no step is planned or ready to book."))
            self.message_user(request, words, messages.WARNING)
            return back
        moved = sum(1 for pk, day in after.items() if before.get(pk) != day)
        without = sum(1 for day in after.values() if day is None)
        self.message_user(request, gettext(
            "The timeline was planned again: %(open)s steps not yet booked looked at, %(moved)s with a new day, "
            "%(without)s with no day yet.") % {"open": len(after), "moved": moved, "without": without},
            messages.SUCCESS if not without else messages.WARNING)
        return back

    def send_link_view(self, request, plan_id: int):
        plan = get_object_or_404(CarePlan, pk=plan_id)
        if request.method != "POST" or not request.user.has_perm("scheduling.view_procedureorder"):
            raise PermissionDenied
        step = get_object_or_404(plan.steps.select_related("order__patient", "order__procedure_type"),
                                 pk=request.POST.get("step") if str(request.POST.get("step", "")).isdigit() else 0)
        if step.status != StepStatus.READY or step.order_id is None:
            self.message_user(request, gettext("Step %(position)s is not ready to book.") % {
                "position": step.position}, messages.WARNING)
        elif (link := last_booking_links([step.order_id]).get(step.order_id)) and (
                timezone.now() - link.at < RESEND_AFTER):
            self.message_user(request, gettext("Not sent again: the booking link was %(done)s at %(time)s, less "
                                               "than %(minutes)s minutes ago.") % {
                "done": gettext("sent") if link.sent else gettext("queued"), "time": f"{link.at:%H:%M}",
                "minutes": int(RESEND_AFTER.total_seconds() // 60)}, messages.WARNING)
        else:
            answer = order_link_offer(step.order)
            if answer.sent:
                self.message_user(request, gettext("The booking link will go out within a minute."),
                                  messages.SUCCESS)
            else:
                why = step.planning_note if step.proposed_date is None else ""  # the planning's reason
                self.message_user(request, format_html("{} {}. {}", gettext("Not sent:"), link_refusal_html(answer),
                                                       why), messages.WARNING)
        return HttpResponseRedirect(reverse("admin:scheduling_careplan_change", args=[plan.pk]))
