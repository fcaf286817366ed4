"""The booking's rows read with written-out SQL (scheduling/rows.py) are the ORM's rows: every
field's value, with the relations and annotations the booking reads, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from clinic.models import Patient
from scheduling import rows
from scheduling.models import HOLDING_STATUSES, Appointment, CarePlanStep, ProcedureElsewhere, ProcedureOrder
from tests.test_demo_activity import _seeded, activity  # noqa: F401  (the demo's visits, seeded once here)

pytestmark = pytest.mark.django_db


def values(row) -> dict:
    """Each field's value with its type: 1 is not True, nor Decimal("1.50") Decimal("1.5")."""
    return {field.attname: (type(getattr(row, field.attname)), repr(getattr(row, field.attname)))
            for field in row._meta.concrete_fields}


@pytest.fixture
def more(activity):
    """Beyond the demo: a patient on two blood thinners, and one with several procedures done
    elsewhere, two of them on one day (the order between them is the id's)."""
    from clinic.models import BloodThinner, ProcedureType

    patients = list(Patient.objects.order_by("pk")[:2])
    patients[0].blood_thinners.set(BloodThinner.objects.order_by("pk")[:2])
    esi = ProcedureType.objects.get(code="ESI_IL")
    for day in ("2026-03-02", "2026-05-04", "2026-05-04"):
        ProcedureElsewhere.objects.create(patient=patients[1], procedure_type=esi, day=day, region="lumbar",
                                          relief_percent=60, facility="Elsewhere Spine")
    return patients


def test_every_patient_reads_as_the_orm_reads_them(more):
    for expected in Patient.objects.prefetch_related("blood_thinners"):
        found = rows.patient(expected.pk)
        assert values(found) == values(expected)
        assert sorted(int(pk) for pk in found.blood_thinner_ids.split(",") if pk) == sorted(
            drug.pk for drug in expected.blood_thinners.all())
        assert found.payer == expected.payer and (found.payer is None or found.payer.name == expected.payer.name)
    assert len(rows.patient(more[0].pk).blood_thinner_ids.split(",")) == 2
    assert rows.patient(10**12) is None


def test_every_order_reads_as_the_orm_reads_it(activity):
    planned = set(CarePlanStep.objects.exclude(order=None).values_list("order_id", flat=True))
    assert planned  # the demo has orders of care plans, and orders without one
    for expected in ProcedureOrder.objects.all():
        found = rows.order(expected.pk)
        assert values(found) == values(expected) and found.in_care_plan is (expected.pk in planned)
    assert rows.order(10**12) is None


def test_every_patients_visits_and_procedures_elsewhere_read_as_the_orm_reads_them(more):
    assert ProcedureElsewhere.objects.exists()
    for patient in Patient.objects.all():
        expected = list(Appointment.objects.filter(patient=patient, status__in=HOLDING_STATUSES)
                        .select_related("order", "outcome", "procedure_type", "location").order_by("procedure_start", "pk"))
        found = rows.visits(patient.pk)
        assert [values(visit) for visit in found] == [values(visit) for visit in expected]
        for visit, orm in zip(found, expected):
            assert (values(visit.order) if visit.order else None) == (values(orm.order) if orm.order else None)
            ours, theirs = getattr(visit, "outcome", None), getattr(orm, "outcome", None)
            assert (values(ours) if ours else None) == (values(theirs) if theirs else None)
            assert ours is None or ours.appointment is visit
            assert visit.procedure_type.code == orm.procedure_type.code and visit.location.name == orm.location.name
        if expected:
            assert [visit.pk for visit in rows.visits(patient.pk, exclude_id=expected[0].pk)] == [
                visit.pk for visit in expected[1:]]
        elsewhere = list(ProcedureElsewhere.objects.filter(patient=patient).select_related("procedure_type"))
        assert patient != more[1] or len(elsewhere) == 3
        assert [values(row) for row in rows.procedures_elsewhere(patient.pk)] == [values(row) for row in elsewhere]
