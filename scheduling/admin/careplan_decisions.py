"""The physician's decisions on a care plan, in the plan's admin page: end the plan, repeat the step
whose outcome stopped it, or resume after changing the steps; and marking a step done elsewhere.

`CarePlanDecisionsMixin` goes on the care plan's ModelAdmin: it adds the pages (under the
plan's own admin address) and a "Decision" section at the top of the plan's page with what can
be done now. Deciding takes a physician on the clinic's books, checked here and again in the
services; marking a step done takes the permission to change plan steps.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scheduling.careplans.steps import capital_label, label
from scheduling.errors import BookingError
from scheduling.models import BOOKED_HERE, CarePlan, CarePlanStep, PlanStatus, StepStatus
from scheduling.services.careplan_decisions import careplan_end, careplan_repeat_step, careplan_resume, may_decide
from scheduling.services.careplan_progress import careplan_step_mark_done

MARK_DONE_PERMISSION = "scheduling.change_careplanstep"
DECISIONS = ("end", "repeat", "resume")


class EndForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why the plan ends"), max_length=300,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("Kept on the plan and in its history."))


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=gettext_lazy("Optional: why, for the plan's history."))


class DoneForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Done on"), widget=forms.DateInput(attrs={"type": "date"}),
                          help_text=gettext_lazy("The day it happened (today or earlier)."))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False,
                           help_text=gettext_lazy("Optional: where, by whom, a document reference."))

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_day(self):
        day = self.cleaned_data["day"]
        if self.today and day > self.today:
            raise forms.ValidationError(_("The day it was done cannot be in the future."))
        return day


_TITLES = {
    "end": gettext_lazy("End the care plan"),
    "repeat": gettext_lazy("Repeat the step"),
    "resume": gettext_lazy("Resume the care plan"),
}
_EXPLAIN = {
    "end": gettext_lazy("The plan ends: its steps not yet booked are cancelled with their orders. A visit already "
                        "booked stays booked; cancel it on the visit if it should not go ahead."),
    "repeat": gettext_lazy("A copy of the step whose outcome stopped the plan goes in before the stopped step, with "
                           "its own order, ready to book; its booking link goes to the patient. The stopped step then "
                           "waits for the copy's outcome."),
    "resume": gettext_lazy("Change the steps first (the threshold, the gate, the waits) and save the plan. Resuming "
                           "judges the stopped step again as it is now: it goes ahead, or stops again with why."),
}


class CarePlanDecisionsMixin:
    """For the care plan's ModelAdmin (see the module's docstring)."""

    decisions_template = "admin/scheduling/careplan/decide.html"
    step_done_template = "admin/scheduling/careplan/step_done.html"

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path("<path:object_id>/decide/<str:decision>/", self.admin_site.admin_view(self.decide_view),
                 name="%s_%s_decide" % info),
            path("<path:object_id>/steps/<int:step_id>/done/", self.admin_site.admin_view(self.step_done_view),
                 name="%s_%s_step_done" % info),
        ] + super().get_urls()

    # ---- The "Decision" section on the plan's page -----------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["decisions"] if obj is not None and "decisions" not in fields else fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # What this user may do is known here (the section's display is given only the plan).
        obj._may_decide = may_decide(request.user)
        obj._may_mark_done = request.user.has_perm(MARK_DONE_PERMISSION)
        cleaned = [(name, {**options, "fields": [field for field in options.get("fields", ()) if field != "decisions"]})
                   for name, options in fieldsets]
        return [(_("Decision"), {"fields": ["decisions"]})] + [item for item in cleaned if item[1]["fields"]]

    def decisions(self, obj: CarePlan) -> str:
        if obj is None or obj.pk is None:
            return "-"
        links = []
        if obj.status == PlanStatus.NEEDS_DECISION and getattr(obj, "_may_decide", False):
            stopped = obj.steps.filter(status=StepStatus.STOPPED).select_related("procedure_type").first()
            links += [(_decide_url(obj, "repeat"), _("Repeat %(what)s") % {"what": _repeated_label(obj, stopped)})]
            links += [(_decide_url(obj, "resume"), _("Resume after changing the steps"))]
        if obj.status in (PlanStatus.ACTIVE, PlanStatus.NEEDS_DECISION) and getattr(obj, "_may_decide", False):
            links += [(_decide_url(obj, "end"), _("End the plan"))]
        if obj.status == PlanStatus.ACTIVE and getattr(obj, "_may_mark_done", False):
            for step in obj.steps.filter(status__in=[StepStatus.PLANNED, StepStatus.READY]).exclude(
                    kind__in=BOOKED_HERE).order_by("position"):
                links.append((reverse("admin:scheduling_careplan_step_done", args=[obj.pk, step.pk]),
                              _("Mark %(step)s done") % {"step": label(step)}))
        status = format_html("<strong>{}</strong>{}", obj.get_status_display(),
                             format_html("<br>{}", obj.status_note) if obj.status_note else "")
        if not links:
            return status
        return format_html('{}<p class="careplan-decisions">{}</p>', status,
                           format_html_join(" ", '<a class="button" href="{}">{}</a>', links))

    decisions.short_description = gettext_lazy("now")

    # ---- The pages ---------------------------------------------------------------------------------

    def _plan(self, request, object_id) -> CarePlan:
        plan = self.get_object(request, unquote(object_id))
        if plan is None:
            raise Http404(_("There is no such care plan."))
        return plan

    def decide_view(self, request, object_id, decision):
        if decision not in DECISIONS:
            raise Http404(_("There is no such decision."))
        if not may_decide(request.user):
            raise PermissionDenied
        plan = self._plan(request, object_id)
        form_class = EndForm if decision == "end" else NoteForm
        form = form_class(request.POST or None)
        error = ""
        if request.method == "POST" and form.is_valid():
            try:
                message, level = _decide(plan, decision, form.cleaned_data, request.user)
            except BookingError as refused:
                error = refused.message
            else:
                self.message_user(request, message, level)
                return HttpResponseRedirect(reverse("admin:scheduling_careplan_change", args=[plan.pk]))
        stopped = plan.steps.filter(status=StepStatus.STOPPED).select_related("procedure_type").first()
        return TemplateResponse(request, self.decisions_template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": plan, "plan": plan,
            "title": _TITLES[decision], "explain": _EXPLAIN[decision], "form": form, "error": error,
            "stopped": label(stopped) if stopped else "", "decision": decision,
        }, status=400 if request.method == "POST" else 200)

    def step_done_view(self, request, object_id, step_id):
        if not request.user.has_perm(MARK_DONE_PERMISSION):
            raise PermissionDenied
        plan = self._plan(request, object_id)
        step = CarePlanStep.objects.filter(plan=plan, pk=step_id).select_related("procedure_type").first()
        if step is None:
            raise Http404(_("There is no such step in this plan."))
        form = DoneForm(request.POST or None, today=timezone.localdate())
        error = ""
        if request.method == "POST" and form.is_valid():
            try:
                careplan_step_mark_done(step=step, day=form.cleaned_data["day"], note=form.cleaned_data["note"],
                                        by=request.user)
            except BookingError as refused:
                error = refused.message
            else:
                self.message_user(request, _("%(step)s is done; the plan goes on.") % {
                    "step": capital_label(step)}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:scheduling_careplan_change", args=[plan.pk]))
        return TemplateResponse(request, self.step_done_template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": plan, "plan": plan,
            "title": _("Mark %(step)s done") % {"step": label(step)}, "form": form, "error": error,
        }, status=400 if request.method == "POST" else 200)


def _decide_url(plan: CarePlan, decision: str) -> str:
    return reverse("admin:scheduling_careplan_decide", args=[plan.pk, decision])


def _repeated_label(plan: CarePlan, stopped: CarePlanStep | None) -> str:
    from scheduling.careplans.steps import plan_steps, previous_booked_here

    if stopped is None:
        return _("the step")
    steps = plan_steps(plan)
    repeated = previous_booked_here(next(step for step in steps if step.pk == stopped.pk), steps)
    return label(repeated) if repeated else _("the step")


def _decide(plan: CarePlan, decision: str, data: dict, user) -> tuple[str, int]:
    """Carry the decision out; what happened, and how the message shows."""
    if decision == "end":
        careplan_end(plan=plan, reason=data["reason"], by=user)
        return _("The plan has ended."), messages.SUCCESS
    if decision == "repeat":
        copy = careplan_repeat_step(plan=plan, note=data["note"], by=user)
        return _("%(step)s repeats the step. %(note)s") % {"step": capital_label(copy), "note": copy.status_note}, \
            messages.SUCCESS
    answer = careplan_resume(plan=plan, note=data["note"], by=user)
    if answer.failed:
        return _("Resumed, and stopped again: %(why)s") % {"why": answer.words}, messages.WARNING
    return _("Resumed: %(why)s") % {"why": answer.words}, messages.SUCCESS
