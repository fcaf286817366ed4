"""The arrivals desk: the day's visits in arrival order, where each patient is in their day,
their checks and what the user may do next."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from scheduling import services
from scheduling.admin.board.states import arrival_state
from scheduling.models import CheckKind
from tests.conftest import NEXT_MONDAY, _staff, local
from tests.test_booking_services import book

URL = reverse("board:arrivals")
MONDAY = f"{URL}?date={NEXT_MONDAY.isoformat()}"


@pytest.fixture
def day(calendar):
    """Monday: an ESI at 09:00 (arrival 08:30), another at 10:00 (09:30), a consult at 13:00 (12:45)."""
    for patient in calendar.patients[:3]:
        patient.blood_thinners.clear()
    first = book(calendar, patient=calendar.patients[0], start=local(NEXT_MONDAY, 9))
    second = book(calendar, patient=calendar.patients[1], start=local(NEXT_MONDAY, 10))
    consult = book(calendar, patient=calendar.patients[2], procedure_type=calendar.consult,
                   physician=calendar.reyes, start=local(NEXT_MONDAY, 13))
    return first, second, consult


def rows(response) -> list[str]:
    """Each visit row's id and state, in page order."""
    return [(row.visit.pk, row.state.key) for row in response.context["rows"]]


def test_visits_come_in_arrival_order_with_their_state(client, front_desk, day, clock):
    first, second, consult = day
    clock.move_to(local(NEXT_MONDAY, 8, 15))
    client.force_login(front_desk)
    response = client.get(MONDAY)
    assert rows(response) == [(first.pk, "expected"), (second.pk, "expected"), (consult.pk, "expected")]
    page = response.content.decode()
    assert page.index(first.patient.full_name) < page.index(second.patient.full_name) < page.index(
        consult.patient.full_name)


def test_a_patient_is_late_once_the_arrival_time_has_passed_without_check_in(client, front_desk, day, clock):
    first, second, _ = day
    clock.move_to(local(NEXT_MONDAY, 8, 29))
    assert arrival_state(first, now=local(NEXT_MONDAY, 8, 29)).key == "expected"
    clock.move_to(local(NEXT_MONDAY, 8, 31))
    client.force_login(front_desk)
    response = client.get(MONDAY)
    assert rows(response)[:2] == [(first.pk, "late"), (second.pk, "expected")]
    assert '<span class="status-badge status-late">Late</span>' in response.content.decode()


def test_each_step_of_the_day_shows_as_its_state(client, nurse, day, clock):
    first, second, consult = day
    clock.move_to(local(NEXT_MONDAY, 10, 30))
    services.appointment_check_in(appointment=first, confirmed_checks=[CheckKind.CONSENT])
    services.appointment_start(appointment=first)
    services.appointment_move_to_recovery(appointment=first)
    services.appointment_check_in(appointment=second, confirmed_checks=[CheckKind.CONSENT])
    services.appointment_start(appointment=second)
    client.force_login(nurse)
    assert rows(client.get(MONDAY)) == [(first.pk, "in_recovery"), (second.pk, "in_procedure"),
                                        (consult.pk, "expected")]
    services.appointment_complete(appointment=first)
    services.appointment_check_in(appointment=consult)
    assert rows(client.get(MONDAY)) == [(first.pk, "done"), (second.pk, "in_procedure"),
                                        (consult.pk, "checked_in")]


def test_cancelled_visits_show_only_when_asked_for(client, front_desk, day, clock):
    first, second, consult = day
    services.appointment_cancel(appointment=second, reason="Patient has the flu")
    client.force_login(front_desk)
    assert [pk for pk, _ in rows(client.get(MONDAY))] == [first.pk, consult.pk]
    assert rows(client.get(f"{MONDAY}&cancelled=1"))[1] == (second.pk, "cancelled")


def test_the_checks_needed_and_done_are_shown(client, nurse, day, clock):
    first, second, consult = day
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    services.appointment_check_in(appointment=first, confirmed_checks=[CheckKind.CONSENT], by=nurse)
    client.force_login(nurse)
    response = client.get(MONDAY)
    by_visit = {row.visit.pk: row.checks for row in response.context["rows"]}
    assert by_visit[first.pk].complete and not by_visit[second.pk].complete
    assert not by_visit[consult.pk].needed
    page = response.content.decode()
    assert 'class="check-done" title="Signed consent for this procedure.">Consent' in page
    assert 'class="check-missing" title="Signed consent for this procedure.">Consent' in page


def test_the_actions_are_those_of_the_users_role(client, front_desk, nurse, day, clock):
    first = day[0]
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    client.force_login(front_desk)
    desk = {row.visit.pk: [action.name for action in row.actions] for row in client.get(MONDAY).context["rows"]}
    assert "cancel" in desk[first.pk] and "start" not in desk[first.pk]
    assert f'action="{reverse("board:visit-action", args=[first.pk, "cancel"])}"' in client.get(MONDAY).content.decode()
    client.force_login(nurse)
    ward = {row.visit.pk: [action.name for action in row.actions] for row in client.get(MONDAY).context["rows"]}
    assert ward[first.pk] == ["check-in"]


def test_the_default_is_the_first_active_location_today_in_its_zone(client, front_desk, calendar):
    client.force_login(front_desk)
    choice = client.get(URL).context["choice"]
    assert choice.location == calendar.location and choice.day == dt.date(2026, 11, 24)


def test_late_at_night_in_utc_is_still_today_in_the_clinics_zone(client, front_desk, calendar, clock):
    clock.move_to(local(dt.date(2026, 11, 24), 22, 30))  # 04:30 UTC on the 25th
    client.force_login(front_desk)
    assert client.get(URL).context["choice"].day == dt.date(2026, 11, 24)


@pytest.mark.parametrize(("query", "said"), [
    ("date=2026-13-45", "Date: 2026-13-45 is written as a date, but there is no such day."),
    ("date=2026-02-30", "Date: 2026-02-30 is written as a date, but there is no such day."),
    ("date=9999-12-31", "Date: Choose a day between 1900-01-01 and 2999-12-31."),
    ("location=abc", "Location: There is no such location; choose one from the list."),
    ("location=999999999999999999999", "Location: There is no such location"),
])
def test_bad_inputs_are_a_400_page_that_says_what_is_wrong(client, front_desk, calendar, query, said):
    client.force_login(front_desk)
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert "This day cannot be shown" in page and said in page
    assert "showing" not in page.lower() and 'id="arrivals"' not in page


def test_staff_without_a_role_are_refused(client, demo_clinic):
    client.force_login(_staff("no-role", None))
    assert client.get(URL).status_code == 403


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client, demo_clinic):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_the_desks_queries_do_not_grow_with_its_visits(client, front_desk, day, clock, django_assert_max_num_queries,
                                                       calendar):
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    client.force_login(front_desk)
    client.get(MONDAY)  # warm the session and permission caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(MONDAY)
    for index, patient in enumerate(calendar.patients[3:7]):
        patient.blood_thinners.clear()
        book(calendar, patient=patient, start=local(NEXT_MONDAY, 11 + index))
    with CaptureQueriesContext(connection) as more:
        assert len(client.get(MONDAY).context["rows"]) == 7
    assert len(more) == len(few)


def test_starting_a_procedure_while_its_physician_shows_another_under_way_warns(client, nurse, day, clock):
    """The board is behind (the first patient left the room unrecorded) or the start is a mistake:
    the procedure starts, and the nurse is told which visit still shows in procedure."""
    first, second, _ = day
    clock.move_to(local(NEXT_MONDAY, 9, 50))
    services.appointment_check_in(appointment=first, confirmed_checks=[CheckKind.CONSENT])
    services.appointment_start(appointment=first)
    services.appointment_check_in(appointment=second, confirmed_checks=[CheckKind.CONSENT])
    client.force_login(nurse)
    response = client.post(reverse("board:visit-action", args=[second.pk, "start"]), {"next": MONDAY}, follow=True)
    page = response.content.decode()
    assert f"{second.patient.full_name}: procedure started." in page
    assert (f"{first.patient.full_name} is still shown in procedure ({first.room.name}, {first.physician.name}), "
            "with the same room or physician") in page
    services.appointment_move_to_recovery(appointment=first)
    services.appointment_complete(appointment=first)
    services.appointment_move_to_recovery(appointment=second)
    services.appointment_check_in(appointment=day[2])
    again = client.post(reverse("board:visit-action", args=[day[2].pk, "start"]), {"next": MONDAY}, follow=True)
    assert "is still shown in procedure" not in again.content.decode()


def test_the_desk_carries_the_tabs_of_the_staffs_day_with_the_day_shown(client, front_desk, day, clock):
    client.force_login(front_desk)
    page = client.get(MONDAY).content.decode()
    location = day[0].location
    start = page.index('<nav class="board-tabs"')
    tabs = page[start:page.index("</nav>", start)]
    query = f"?location={location.pk}&amp;date={NEXT_MONDAY.isoformat()}"
    assert f'href="{reverse("board:day")}{query}"' in tabs
    assert f'href="{URL}{query}" aria-current="page">Arrivals</a>' in tabs
    assert f'href="{reverse("board:attention")}?location={location.pk}"' in tabs
    assert "Monday, November 30, 2026" in page

