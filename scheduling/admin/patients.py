"""What the patient's admin page shows beside the patient's details (clinic.admin.PatientAdmin)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from clinic.models import Patient
from scheduling.admin.elsewhere import ProcedureElsewhereInline
from scheduling.admin.waitlist import JOIN_PERMISSION, can_join
from scheduling.models import ProcedureOrder
from scheduling.patient_overview import patient_overview

BOOK_PERMISSION = "scheduling.add_appointment"


def book_url(patient: Patient, order: ProcedureOrder | None = None) -> str:
    """The add-appointment page with the patient (and the order and its procedure) filled in."""
    query = {"patient": patient.pk}
    if order is not None:
        query.update(order=order.pk, procedure_type=order.procedure_type_id)
    return f"{reverse('admin:scheduling_appointment_add')}?{urlencode(query)}"


def patient_inlines() -> list:
    """The scheduling app's inlines on the patient's admin page (clinic.admin.PatientAdmin)."""
    return [ProcedureElsewhereInline]


def patient_page_context(request, patient: Patient) -> dict:
    overview = patient_overview(patient)
    user = request.user
    may_book, may_waitlist = user.has_perm(BOOK_PERMISSION), user.has_perm(JOIN_PERMISSION)
    page = request.get_full_path()
    for visit in overview.upcoming:
        visit.waitlist_url = (
            f"{reverse('admin:scheduling_waitlistentry_join', args=[visit.pk])}?{urlencode({'next': page})}"
            if may_waitlist and can_join(visit) else "")
    for line in overview.orders:
        line.book_url = book_url(patient, line.order) if may_book and line.visit is None else ""
    may_plan = user.has_perm("scheduling.add_careplan")
    return {
        "overview": overview,
        "book_url": book_url(patient) if may_book else "",
        "may_view_elsewhere": user.has_perm("scheduling.view_procedureelsewhere"),
        "care_plan_add_url": (f"{reverse('admin:scheduling_careplan_add')}?{urlencode({'patient': patient.pk})}"
                              if may_plan else ""),
    }
