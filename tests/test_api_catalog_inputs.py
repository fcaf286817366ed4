"""Inputs the API finds in the catalog held in memory: refused with the field named, as a
database lookup would refuse them, and never a 500."""

from __future__ import annotations

import pytest

from clinic.models import ProcedureType, Room
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db


def _booking(calendar, **changes) -> dict:
    patient = calendar.patients[0]
    calendar.order_for(patient)
    return {"patient": patient.pk, "procedure_type": "ESI_IL", "physician": calendar.okafor.pk,
            "start": local(NEXT_MONDAY, 9).isoformat(), **changes}


@pytest.mark.parametrize("field, value, words", [
    ("physician", 2.5, "Incorrect type"),
    ("physician", True, "Incorrect type"),
    ("physician", "abc", "Incorrect type"),
    ("physician", 99999999999999999999, "does not exist"),
    ("room", -1, "does not exist"),
    ("procedure_type", True, "Invalid value"),
    ("procedure_type", "NOPE", "does not exist"),
])
def test_bad_catalog_inputs_name_their_field(calendar, desk, field, value, words):
    response = desk.post("/api/v1/appointments/", _booking(calendar, **{field: value}), format="json")
    assert response.status_code == 400
    assert words in response.json()["errors"][field][0]


def test_a_procedure_no_longer_offered_is_named_so(calendar, desk):
    ProcedureType.objects.filter(code="ESI_IL").update(is_active=False)
    response = desk.get(f"/api/v1/availability/?procedure_type=ESI_IL&location={calendar.location.pk}"
                        f"&from={NEXT_MONDAY}&to={NEXT_MONDAY}")
    assert response.status_code == 400
    assert response.json()["errors"]["procedure_type"] == ["Epidural steroid injection (interlaminar) is not offered."] \
        or "is not offered" in response.json()["errors"]["procedure_type"][0]


def test_a_room_out_of_use_is_named_so(calendar, desk):
    suite = Room.objects.get(name="Fluoro Suite 1")
    suite.is_active = False
    suite.save()
    response = desk.post("/api/v1/appointments/", _booking(calendar, room=suite.pk), format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["room"] == ["Fluoro Suite 1 is out of use."]


def test_a_reschedule_takes_a_whole_physician_id_only(calendar, desk):
    booked = desk.post("/api/v1/appointments/", _booking(calendar), format="json").json()
    response = desk.post(f"/api/v1/appointments/{booked['id']}/reschedule/",
                         {"start": local(NEXT_MONDAY, 10).isoformat(), "physician": calendar.okafor.pk + 0.7},
                         format="json")
    assert response.status_code == 400
    assert "Incorrect type" in response.json()["errors"]["physician"][0]


@pytest.mark.parametrize("why", ["inactive", "not credentialed", "unknown"])
def test_a_search_for_a_physician_who_is_never_offered_says_why(calendar, desk, why):
    physician = calendar.okafor
    if why == "inactive":
        physician.is_active = False
        physician.save()
    elif why == "not credentialed":
        physician.procedure_types.remove(calendar.esi)
    doctor = physician.pk if why != "unknown" else 99_999
    response = desk.get(f"/api/v1/availability/?procedure_type=ESI_IL&location={calendar.location.pk}"
                        f"&from={NEXT_MONDAY}&to={NEXT_MONDAY}&physician={doctor}")

    assert response.status_code == 400
    expected = {"inactive": f"{physician} is not taking appointments.",
                "not credentialed": f"{physician} is not credentialed for {calendar.esi.name}.",
                "unknown": 'Invalid pk "99999" - object does not exist.'}[why]
    assert response.json()["errors"]["physician"] == [expected]


@pytest.mark.parametrize("address, repeated", [
    ("/api/v1/availability/?procedure_type=ESI_IL&from={day}&to={day}&physician={a}&physician={b}", "physician"),
    ("/api/v1/availability/?procedure_type=ESI_IL&from={day}&from={day}&to={day}", "from"),
    ("/api/v1/appointments/?location={a}&location={b}", "location"),
    ("/api/v1/orders/?status=open&status=cancelled", "status"),
    ("/api/v1/care-plans/?patient={a}&patient={b}", "patient"),
])
def test_a_query_parameter_given_twice_is_refused_by_name(calendar, desk, address, repeated):
    """Not the last of the values kept in silence: the caller asked something else."""
    response = desk.get(address.format(day=NEXT_MONDAY, a=calendar.okafor.pk, b=calendar.okafor.pk + 1))
    assert response.status_code == 400
    assert response.json()["errors"] == {repeated: ["Give one value, not several."]}
