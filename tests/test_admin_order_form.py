"""A new order in the admin: the form parses, the add view calls the order service, and the
service's refusal comes back on the form. Validating the form writes nothing."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from clinic.models import ProcedureType
from scheduling.admin.orders import OrderForm
from scheduling.models import ProcedureOrder

pytestmark = pytest.mark.django_db


def order_data(calendar, patient, code: str, **extra) -> dict:
    return {"patient": patient.pk, "procedure_type": ProcedureType.objects.get(code=code).pk,
            "ordering_physician": calendar.okafor.pk, "status": "open", "priority": "routine",
            "authorization_status": "not_requested", "region": "lumbar", **extra}


def test_validating_the_order_form_writes_no_order(calendar, physician_user):
    request = RequestFactory().post("/")
    request.user = physician_user
    form = OrderForm(order_data(calendar, calendar.patients[0], "ESI_IL"), request=request)
    assert form.is_valid(), form.errors
    assert not ProcedureOrder.objects.filter(patient=calendar.patients[0]).exists()


def test_a_new_order_is_made_by_the_order_service_from_the_add_view(client, calendar, physician_user):
    client.force_login(physician_user)
    response = client.post(reverse("admin:scheduling_procedureorder_add"),
                           order_data(calendar, calendar.patients[0], "ESI_IL", levels="L4-L5"))
    order = ProcedureOrder.objects.get(patient=calendar.patients[0])
    assert response.status_code == 302 and order.levels == "L4-L5"
    assert order.history.first().history_user == physician_user


def test_the_order_services_refusal_is_shown_on_the_form_and_nothing_is_ordered(client, calendar, physician_user):
    client.force_login(physician_user)
    patient = calendar.patients[1]
    response = client.post(reverse("admin:scheduling_procedureorder_add"),
                           order_data(calendar, patient, "SCS_IMPLANT", region="thoracic"))
    assert response.status_code == 200
    assert "Spinal cord stimulator trial" in " ".join(response.context["adminform"].form.non_field_errors())
    assert not ProcedureOrder.objects.filter(patient=patient).exists()
