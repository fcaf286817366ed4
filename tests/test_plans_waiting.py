"""Care plans waiting for a physician's decision are told about: counted on the board's "Needs attention"
tab (a physician's own, all for the manager), named on the admin home, and a line on the physician's My day."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.careplans.selectors import plans_waiting_count
from scheduling.models import PlanStatus
from tests.careplans import SCS, make_plan, patient_with

pytestmark = pytest.mark.django_db


def stop(plan, physician=None):
    plan.status, plan.status_note = PlanStatus.NEEDS_DECISION, "Stopped at step 2: denied."
    if physician is not None:
        plan.physician = physician
    plan.save()
    return plan


@pytest.fixture
def waiting(calendar):
    """Two of Dr. Okafor's plans and one of Dr. Reyes's wait for a decision; one of Dr. Okafor's is under way."""
    make_plan(calendar, patient_with("Medicare"))
    return [stop(make_plan(calendar, patient_with("Medicare"))),
            stop(make_plan(calendar, patient_with("Medicare"), SCS, name="Spinal cord stimulation")),
            stop(make_plan(calendar, patient_with("Medicare")), calendar.reyes)]


def tab(client, user, page="/admin/board/") -> str:
    cache.clear()
    client.force_login(user)
    html = unescape(client.get(page).content.decode())
    return re.search(r'href="/admin/board/attention/\?location=\d+"(?: aria-current="page")?>([^<]*)</a>', html).group(1)


@pytest.mark.parametrize("page", ["/admin/board/arrivals/", "/admin/board/attention/", "/admin/board/recovery/"])
def test_every_view_of_the_day_carries_the_tab_with_its_count(client, waiting, manager, page):
    assert tab(client, manager, page) == "Needs attention (3)"


def test_the_tab_counts_the_physicians_own_plans_all_for_the_manager_none_for_the_front_desk(
        client, waiting, practising_physician, manager, front_desk):
    assert tab(client, practising_physician) == "Needs attention (2)"
    assert tab(client, manager) == "Needs attention (3)"
    assert tab(client, front_desk) == "Needs attention"


def test_the_tab_adds_the_plans_to_the_stranded_visits(client, calendar, waiting, manager):
    stop(make_plan(calendar, patient_with("Medicare")))
    assert tab(client, manager) == "Needs attention (4)"
    waiting[0].status = PlanStatus.ENDED
    waiting[0].save()
    assert tab(client, manager) == "Needs attention (3)"  # read afresh: a decision shows at once


def test_the_plans_count_is_one_query(waiting, practising_physician, manager):
    for user, expected in ((practising_physician, 2), (manager, 3)):
        user = type(user).objects.get(pk=user.pk)  # permissions not cached yet
        user.get_all_permissions()
        with CaptureQueriesContext(connection) as queries:
            assert plans_waiting_count(user=user) == expected
        assert len(queries) == 1


def test_the_admin_home_describes_needs_attention_as_both(client, manager):
    client.force_login(manager)
    html = unescape(client.get("/admin/").content.decode())
    assert ("Visits a change of plans made impossible, and care plans waiting for a physician’s decision"
            in html)
    assert "Booked visits that are no longer possible" not in html


def test_my_day_tells_the_physician_how_many_of_their_plans_wait(client, calendar, waiting, practising_physician):
    client.force_login(practising_physician)
    html = unescape(client.get("/admin/board/my-day/").content.decode())
    line = re.search(r'<p class="plans-waiting"><a href="([^"]+)">([^<]+)</a></p>', html)
    assert line.groups() == ("/admin/board/attention/#stopped-plans", "2 care plans wait for your decision")
    waiting[1].status = PlanStatus.ENDED
    waiting[1].save()
    html = unescape(client.get("/admin/board/my-day/").content.decode())
    assert "1 care plan waits for your decision" in html
    waiting[0].status = PlanStatus.ENDED
    waiting[0].save()
    assert "plans-waiting" not in client.get("/admin/board/my-day/").content.decode()
