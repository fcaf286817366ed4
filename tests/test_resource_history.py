"""Every clinic resource keeps its change history (who changed what, when), readable in the admin."""

from __future__ import annotations

import pytest
from django.test import Client

from clinic.models import Closure, Location, Payer, Physician, Room, RoomOutOfService, ScheduleBlock, TimeOff
from scheduling.models import ReminderStep, WaitlistEntry

pytestmark = pytest.mark.django_db

RESOURCES = [Location, Closure, Room, RoomOutOfService, Physician, ScheduleBlock, TimeOff, Payer, ReminderStep,
             WaitlistEntry]


@pytest.mark.parametrize("model", RESOURCES, ids=lambda model: model.__name__)
def test_every_clinic_resource_keeps_a_change_history(demo_clinic, model):
    assert model.history.model._meta.db_table.startswith(model._meta.app_label + "_historical")


@pytest.mark.parametrize("model", [Location, Room, Physician, ScheduleBlock, Payer, ReminderStep],
                         ids=lambda model: model.__name__)
def test_a_change_is_recorded_with_its_reason_and_shown_on_the_admin_history_page(demo_clinic, manager, model):
    record = model.objects.order_by("pk").first()
    record._change_reason = "Changed for the history test"
    record.save()
    assert record.history.first().history_change_reason == "Changed for the history test"
    client = Client()
    client.force_login(manager)
    opts = model._meta
    page = client.get(f"/admin/{opts.app_label}/{opts.model_name}/{record.pk}/history/")
    assert page.status_code == 200
    assert "Changed for the history test" in page.content.decode()


def test_a_physicians_credentials_are_part_of_the_history(calendar):
    okafor = calendar.okafor
    before = okafor.history.count()
    okafor.procedure_types.remove(calendar.esi)
    latest = okafor.history.first()
    assert okafor.history.count() == before + 1  # the change of credentials alone is a version
    assert calendar.esi.pk not in {row.proceduretype_id for row in latest.procedure_types.all()}
