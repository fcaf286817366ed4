"""The check-in page of a visit: the pre-procedure checks it needs, as boxes to tick.

Submitting checks the patient in and records the ticked checks as seen by the user, in one
transaction (`appointment_check_in`). For a patient already checked in, the same page records
checks seen since (the driver came later) until the procedure starts.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from scheduling import services
from scheduling.admin.board.actions import CHECKS_PERMISSION, back_label, safe_next, visit_or_redirect
from scheduling.errors import BookingError
from scheduling.diary.prompts import has_diary
from scheduling.models import AppointmentStatus, BaselineSource, PainDiary
from scheduling.pathways.checks import VisitChecks, visit_checks
from scheduling.services.checks import visit_checks_confirm
from scheduling.services.diary import diary_baseline_record


class CheckInForm(forms.Form):
    checks = forms.MultipleChoiceField(label=_("Checks seen"), required=False, widget=forms.CheckboxSelectMultiple)
    baseline_pain = forms.IntegerField(
        label=_("Pain now, before the procedure (0-10)"), min_value=0, max_value=10, required=False,
        help_text=_("Ask the patient: the pain diary measures the block's relief from it. Left empty, the diary "
                    "page asks the patient."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "vIntegerField"}))

    def __init__(self, data=None, *, checks: VisitChecks, diary: bool = False, baseline: int | None = None):
        super().__init__(data, initial={"baseline_pain": baseline})
        self.fields["checks"].choices = [(item.kind, f"{item.label}: {item.detail}") for item in checks.missing]
        if not diary:
            del self.fields["baseline_pain"]


def check_in(request, pk: int):
    if not request.user.has_perm(CHECKS_PERMISSION):
        raise PermissionDenied
    visit, redirect = visit_or_redirect(request, pk)
    if visit is None:
        return redirect
    checks = visit_checks(visit)
    already_in = visit.status == AppointmentStatus.CHECKED_IN
    diary = PainDiary.objects.filter(appointment=visit).first()
    form = CheckInForm(request.POST if request.method == "POST" else None, checks=checks,
                       diary=has_diary(visit.procedure_type), baseline=diary.baseline_pain if diary else None)
    if form.is_bound and form.is_valid():
        confirmed = form.cleaned_data["checks"]
        baseline = form.cleaned_data.get("baseline_pain")
        try:
            if already_in:
                with transaction.atomic():
                    visit_checks_confirm(appointment=visit, confirmed=confirmed, by=request.user, now=timezone.now())
                    if baseline is not None and (diary is None or diary.baseline_pain != baseline):
                        diary_baseline_record(appointment=visit, pain=baseline, source=BaselineSource.CHECK_IN,
                                              now=timezone.now())
            else:
                services.appointment_check_in(appointment=visit, confirmed_checks=confirmed, by=request.user,
                                              baseline_pain=baseline)
        except BookingError as error:
            messages.error(request, f"{visit.patient.full_name}: {error.message}")
        else:
            done = gettext("checks recorded") if already_in else gettext("checked in")
            messages.success(request, f"{visit.patient.full_name}: {done}.")
            return HttpResponseRedirect(safe_next(request, visit))
    zone = visit.location.zone
    return TemplateResponse(request, "admin/board/check_in.html", {
        **admin.site.each_context(request),
        "title": gettext("Record checks") if already_in else gettext("Check in"),
        "subtitle": visit.patient.full_name,
        "visit": visit,
        "arrival": visit.arrival.astimezone(zone),
        "start": visit.procedure_start.astimezone(zone),
        "checks": checks,
        "form": form,
        "already_in": already_in,
        "next": safe_next(request, visit),
        "back_label": back_label(safe_next(request, visit)),
    })


urlpatterns = [
    # Before the actions' route, whose `<slug:action>` would also match "check-in".
    path("visit/<int:pk>/check-in/", admin.site.admin_view(check_in), name="visit-check-in"),
]
