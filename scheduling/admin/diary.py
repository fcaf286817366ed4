"""The pain diary on a visit's admin page: the patient's entries, their chart, the outcome
Interval proposes from them, and the "Confirm outcome" page where a nurse or physician
records it (through `outcome_record`, as patient-reported)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling import services
from scheduling.diary.prompts import has_diary
from scheduling.diary.read import diary_view
from scheduling.errors import BookingError
from scheduling.models import Appointment, AppointmentStatus, OutcomeSource, PainDiary

CONFIRM_PERMISSION = "scheduling.record_outcome_appointment"


class DiaryOutcomeForm(forms.Form):
    pain_before = forms.IntegerField(label=_("Pain before (0-10)"), min_value=0, max_value=10)
    pain_after = forms.IntegerField(label=_("Pain after (0-10)"), min_value=0, max_value=10,
                                    help_text=_("The lowest pain the patient recorded."))
    relief_percent = forms.IntegerField(label=_("Relief (%)"), min_value=0, max_value=100,
                                        help_text=_("The peak relief: what the pathway rules compare."))
    relief_duration_hours = forms.IntegerField(label=_("Relief lasted (hours)"), min_value=0, max_value=24 * 365,
                                               required=False,
                                               help_text=_("Whole hours relief stayed at or above 50%."))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 70}))


def shows_diary(appointment: Appointment) -> bool:
    return has_diary(appointment.procedure_type) or PainDiary.objects.filter(appointment=appointment).exists()


def diary_panel(appointment: Appointment, *, confirm_hint: bool = True) -> str:
    """The diary as the visit's page shows it (empty when the procedure has none)."""
    view = diary_view(appointment, now=timezone.now())
    if view is None:
        return ""
    return render_to_string("admin/scheduling/appointment/_diary.html", {
        "view": view, "zone": appointment.location.zone,
        "confirm_hint": confirm_hint and appointment.status == AppointmentStatus.COMPLETED})


def diary_confirm_url(appointment: Appointment, user) -> str:
    """The "Confirm outcome" page's address, for a user who may record outcomes, once the
    visit is completed and its diary has something to propose; else empty."""
    if not user.has_perm(CONFIRM_PERMISSION) or appointment.status != AppointmentStatus.COMPLETED:
        return ""
    view = diary_view(appointment, now=timezone.now())
    if view is None or view.summary.proposal is None:
        return ""
    return reverse("admin:scheduling_appointment_diary_confirm", args=[appointment.pk])


class DiaryAdminMixin:
    """For AppointmentAdmin: the "pain diary" field and the "Confirm outcome" page."""

    def get_urls(self):
        return [
            path("<path:object_id>/diary/confirm/", self.admin_site.admin_view(self.diary_confirm_view),
                 name="scheduling_appointment_diary_confirm"),
        ] + super().get_urls()

    def diary_confirm_view(self, request, object_id):
        # Checked here, not only by hiding the button: the page is one address away.
        if not request.user.has_perm(CONFIRM_PERMISSION):
            raise PermissionDenied
        appointment = self.get_object(request, unquote(object_id))
        if appointment is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        view = diary_view(appointment, now=timezone.now())
        back = reverse("admin:scheduling_appointment_change", args=[appointment.pk], current_app=self.admin_site.name)
        if view is None or view.summary.proposal is None:
            self.message_user(request, view.summary.why_no_proposal if view else _("This procedure has no pain diary."),
                              messages.ERROR)
            return redirect(back)
        proposal = view.summary.proposal
        form = DiaryOutcomeForm(request.POST if request.method == "POST" else None, initial={
            "pain_before": proposal.pain_before, "pain_after": proposal.pain_after,
            "relief_percent": proposal.relief_percent, "relief_duration_hours": proposal.relief_duration_hours,
            "notes": proposal.notes})
        if form.is_bound and form.is_valid():
            try:
                services.outcome_record(appointment=appointment, by=request.user, source=OutcomeSource.PATIENT_DIARY,
                                        **form.cleaned_data)
            except BookingError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("Outcome confirmed from the patient's pain diary."), messages.SUCCESS)
                return redirect(back)
        return TemplateResponse(request, "admin/scheduling/appointment/diary_confirm.html", {
            **self.admin_site.each_context(request),
            "title": _("Confirm the outcome from the pain diary"),
            "subtitle": str(appointment),
            "appointment": appointment,
            "opts": self.opts,
            "panel": diary_panel(appointment, confirm_hint=False),
            "form": form,
            "back_url": back,
        })
