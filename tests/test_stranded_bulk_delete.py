"""The admin list's "Delete selected" asks before it strands booked visits, as deleting one does."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.models import Closure, ScheduleBlock
from tests.test_stranded import MONDAY, WEDNESDAY, confirm, listed, monday_visits  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

BLOCKS = reverse("admin:clinic_scheduleblock_changelist")


def delete_selected(*objects, **extra) -> dict:
    return {"action": "delete_selected", "_selected_action": [obj.pk for obj in objects], "index": "0", **extra}


def test_deleting_selected_schedule_blocks_lists_the_visits_first_and_deletes_only_when_confirmed(
        client, manager, calendar, monday_visits):  # noqa: F811
    wednesday = ScheduleBlock.objects.get(physician=calendar.okafor, weekday=WEDNESDAY.weekday())
    client.force_login(manager)
    asked = client.post(BLOCKS, delete_selected(wednesday))
    assert asked.status_code == 200 and "Are you sure you want to delete the selected" in asked.content.decode()  # the stock question first

    response = client.post(BLOCKS, delete_selected(wednesday, post="yes"))
    assert response.status_code == 200
    assert "This visit would be stranded" in response.content.decode()
    assert listed(response) == ["Cal"]
    assert ScheduleBlock.objects.filter(pk=wednesday.pk).exists()

    response = client.post(BLOCKS, confirm(delete_selected(wednesday, post="yes"), response))
    assert response.status_code == 302
    assert response["Location"] == reverse("board:attention") + f"?visits={monday_visits[2].pk}"
    assert not ScheduleBlock.objects.filter(pk=wednesday.pk).exists()


def test_deleting_selected_blocks_that_strand_nothing_deletes_at_once(client, manager, calendar, monday_visits):  # noqa: F811
    spare = ScheduleBlock.objects.filter(physician=calendar.okafor).exclude(weekday__in=[MONDAY.weekday(),
                                                                                          WEDNESDAY.weekday()])
    assert spare.exists()
    client.force_login(manager)
    response = client.post(BLOCKS, delete_selected(*spare, post="yes"))
    assert response.status_code == 302 and response["Location"] == BLOCKS
    assert not ScheduleBlock.objects.filter(pk__in=[block.pk for block in spare]).exists()


def test_deleting_selected_closures_goes_through_the_same_check(client, manager, calendar, monday_visits):  # noqa: F811
    closures = [Closure.objects.create(location=calendar.location, first_day=MONDAY, last_day=MONDAY,
                                       reason="Ice storm")]
    client.force_login(manager)
    changelist = reverse("admin:clinic_closure_changelist")
    assert "Are you sure you want to delete the selected" in client.post(changelist, delete_selected(*closures)).content.decode()
    response = client.post(changelist, delete_selected(*closures, post="yes"))
    # Reopening the clinic strands nothing: deleted at once, as before.
    assert response.status_code == 302 and not Closure.objects.filter(pk=closures[0].pk).exists()
