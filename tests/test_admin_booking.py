"""Staff booking in the admin: from the engine's slots, with conflicts as form errors."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from scheduling import services
from scheduling.models import Appointment, AppointmentStatus
from tests.conftest import NEXT_MONDAY, NEXT_THURSDAY, local

pytestmark = pytest.mark.django_db

ADD = reverse("admin:scheduling_appointment_add")


def form(calendar, patient, **extra) -> dict:
    return {"patient": patient.pk, "procedure_type": calendar.esi.pk, "location": calendar.location.pk,
            "physician": "", "day": NEXT_MONDAY.isoformat(), "notes": "", **extra}


def offered(response) -> list[str]:
    return re.findall(r'name="slot" value="([^"]+)"', response.content.decode())


def checked(response) -> list[str]:
    return re.findall(r'name="slot" value="([^"]+)" checked', response.content.decode())


def value(start, physician, room) -> str:
    return f"{start.isoformat()}|{physician.pk}|{room.pk}"


def test_choosing_patient_and_procedure_shows_the_offered_times_at_once_without_an_error(
        client, front_desk, calendar):
    client.force_login(front_desk)
    assert client.get(ADD).status_code == 200
    calendar.order_for(calendar.patients[0])
    response = client.post(ADD, {**form(calendar, calendar.patients[0]), "_find": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "errornote" not in page and "errorlist" not in page
    choices = offered(response)
    assert choices and choices[0].startswith("2026-11-30T07:30:00-06:00|")
    assert "Monday 30 November 2026" in page and "07:30" in page


def test_the_patient_and_procedure_from_the_query_string_show_times_without_any_other_field(
        client, front_desk, calendar):
    client.force_login(front_desk)
    order = calendar.order_for(calendar.patients[0])
    response = client.get(ADD, {"patient": calendar.patients[0].pk, "order": order.pk})
    assert response.status_code == 200
    assert "errorlist" not in response.content.decode()
    assert offered(response)[0].startswith("2026-11-24T")  # from today, the procedure taken from the order
    page = response.content.decode()
    assert f'<option value="{calendar.esi.pk}" selected>' in page and 'value="2026-11-24"' in page


def test_choosing_a_time_books_it(client, front_desk, calendar):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    choice = offered(client.post(ADD, form(calendar, calendar.patients[0])))[2]
    response = client.post(ADD, form(calendar, calendar.patients[0], slot=choice, notes="Prefers mornings",
                                     _book="1"))
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment = Appointment.objects.get()
    assert response["Location"] == reverse("admin:scheduling_appointment_change", args=[appointment.pk])
    assert appointment.procedure_start == local(NEXT_MONDAY, 8)
    assert appointment.booked_by == front_desk and appointment.notes == "Prefers mornings"


def test_a_time_asked_for_in_the_query_string_is_shown_chosen_and_booked_exactly(client, front_desk, calendar):
    """The day board's "book here": a physician, a room that is not the engine's first pick, a start."""
    client.force_login(front_desk)
    order = calendar.order_for(calendar.patients[0])
    suite_2 = calendar.location.rooms.filter(capabilities__code="fluoroscopy").order_by("pk")[1]
    start = local(NEXT_MONDAY, 10, 15)
    asked = {"patient": calendar.patients[0].pk, "procedure_type": calendar.esi.pk, "order": order.pk,
             "physician": calendar.okafor.pk, "room": suite_2.pk, "start": start.isoformat()}
    response = client.get(ADD, asked)
    assert checked(response) == [value(start, calendar.okafor, suite_2)]
    booked = client.post(ADD + "?" + "&".join(f"{k}={v}" for k, v in asked.items() if k != "start"), {
        **{k: v for k, v in asked.items()}, "location": calendar.location.pk, "day": NEXT_MONDAY.isoformat(),
        "slot": checked(response)[0], "_book": "1"})
    assert booked.status_code == 302, booked.content.decode()[:3000]
    appointment = Appointment.objects.get()
    assert (appointment.procedure_start, appointment.physician, appointment.room, appointment.order) == (
        start, calendar.okafor, suite_2, order)


def test_a_time_asked_for_before_the_patient_is_chosen_is_said_and_kept(client, front_desk, calendar):
    client.force_login(front_desk)
    suite_2 = calendar.location.rooms.filter(capabilities__code="fluoroscopy").order_by("pk")[1]
    start = local(NEXT_MONDAY, 10, 15)
    response = client.get(ADD, {"physician": calendar.okafor.pk, "room": suite_2.pk, "start": start.isoformat()})
    page = response.content.decode()
    assert "The time asked for: <strong>Mon 30 Nov 2026 10:15 CST</strong> with Dr. Maya Okafor" in page
    assert suite_2.name in page and f'name="start" value="{start.isoformat()}"' in page
    calendar.order_for(calendar.patients[0])
    chosen = client.post(ADD, {"patient": calendar.patients[0].pk, "procedure_type": calendar.esi.pk,
                               "location": calendar.location.pk, "physician": calendar.okafor.pk,
                               "room": suite_2.pk, "start": start.isoformat(), "_find": "1"})
    assert checked(chosen) == [value(start, calendar.okafor, suite_2)]


@pytest.mark.parametrize("moved", [{"physician": ""}, {"day": (NEXT_MONDAY + dt.timedelta(days=1)).isoformat()}])
def test_a_search_moved_away_from_the_time_asked_for_searches_afresh(client, front_desk, calendar, moved):
    """From a care plan's or the board's "book here": choosing any physician or another day drops
    the time asked for, and the times are offered as for any search."""
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    start = local(NEXT_MONDAY, 10, 15)
    search = {"patient": calendar.patients[0].pk, "procedure_type": calendar.esi.pk, "location": calendar.location.pk,
              "physician": calendar.okafor.pk, "day": NEXT_MONDAY.isoformat(), "start": start.isoformat(),
              "_find": "1", **moved}
    response = client.post(ADD, search)
    page = response.content.decode()
    assert "The time asked for" not in page and "Say which physician" not in page, page[:3000]
    assert offered(response) and not checked(response)
    hidden = re.search(r'<input[^>]*name="start"[^>]*>', page).group(0)
    assert "value=" not in hidden or 'value=""' in hidden, hidden  # not carried into the next search


def test_a_time_asked_for_without_a_physician_searches_from_its_day(client, front_desk, calendar):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    response = client.get(ADD, {"patient": calendar.patients[0].pk, "procedure_type": calendar.esi.pk,
                                "start": local(NEXT_MONDAY, 10, 15).isoformat()})
    assert offered(response)[0].startswith("2026-11-30T") and not checked(response)
    assert f'value="{NEXT_MONDAY.isoformat()}"' in response.content.decode()


def test_a_time_asked_for_that_is_not_free_says_why(client, front_desk, calendar):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    response = client.get(ADD, {"patient": calendar.patients[0].pk, "procedure_type": calendar.esi.pk,
                                "physician": calendar.okafor.pk, "start": local(NEXT_MONDAY, 17).isoformat()})
    page = response.content.decode()
    assert "The time asked for cannot be booked:" in page
    assert "no schedule block of this kind at that time" in page
    assert not checked(response) and offered(response)


def test_a_time_asked_for_off_the_grid_says_so_not_that_the_physician_has_no_block(client, front_desk, calendar):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    response = client.get(ADD, {"patient": calendar.patients[0].pk, "procedure_type": calendar.esi.pk,
                                "physician": calendar.okafor.pk, "start": local(NEXT_MONDAY, 9, 7).isoformat()})
    page = response.content.decode()
    assert "The time asked for cannot be booked: Times start every 15 minutes; 09:07 lies between 09:00 and 09:15." \
        in page
    assert "no schedule block" not in page and offered(response)


@pytest.mark.parametrize("start, words", [
    ("2027-03-14T02:30", "There is no 02:30 on Sun 14 Mar 2027 at"),  # the clocks go forward at 02:00
    ("2026-11-01T01:30", "The time asked for, Sun 01 Nov 2026 01:30 CDT, has passed."),
])
def test_a_time_asked_for_that_never_happens_or_has_passed_is_said_and_times_are_offered(
        client, front_desk, calendar, start, words):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    response = client.get(ADD, {"patient": calendar.patients[0].pk, "procedure_type": calendar.esi.pk,
                                "physician": calendar.okafor.pk, "start": start})
    page = response.content.decode()
    assert response.status_code == 200 and words in page, page[:3000]
    assert "The time asked for:" not in page and offered(response)


def test_a_day_past_the_horizon_says_why_no_time_is_offered(client, front_desk, calendar):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    response = client.get(ADD, {"patient": calendar.patients[0].pk, "procedure_type": calendar.esi.pk,
                                "day": (NEXT_MONDAY + dt.timedelta(days=200)).isoformat()})
    page = response.content.decode()
    assert ("The times cannot be searched until what is marked below is corrected: From day: The clinic books at "
            "most") in page
    assert "The offered times appear here once what is marked above is corrected." in page
    assert "Choose the patient and the procedure" not in page and not offered(response)


def test_a_time_taken_meanwhile_says_so_and_shows_the_times_still_offered(client, front_desk, calendar):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    choice = offered(client.post(ADD, form(calendar, calendar.patients[0])))[0]
    calendar.order_for(calendar.patients[1])
    services.appointment_book(patient=calendar.patients[1], procedure_type=calendar.esi, physician=calendar.okafor,
                              start=local(NEXT_MONDAY, 7, 30))
    response = client.post(ADD, form(calendar, calendar.patients[0], slot=choice, _book="1"))
    assert response.status_code == 200
    assert "physician is already booked" in response.content.decode()
    assert choice not in offered(response) and offered(response)
    assert Appointment.objects.count() == 1


def test_booking_without_choosing_a_time_asks_for_one(client, front_desk, calendar):
    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    response = client.post(ADD, form(calendar, calendar.patients[0], _book="1"))
    assert "Choose one of the offered times." in response.content.decode() and offered(response)
    assert not Appointment.objects.exists()


def test_a_missing_order_is_said_in_words_and_no_time_is_offered(client, front_desk, calendar):
    client.force_login(front_desk)
    response = client.post(ADD, form(calendar, calendar.patients[0]))
    page = response.content.decode()
    assert "needs a physician&#x27;s order" in page
    assert not offered(response)


@pytest.fixture
def esi_booked(calendar):
    """Patient 0 has a lumbar ESI next Monday and a second order: the next may be 14 days later."""
    calendar.order_for(calendar.patients[0])
    services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi, physician=calendar.okafor,
                              start=local(NEXT_MONDAY, 9))
    return calendar.order_for(calendar.patients[0])


def test_the_days_the_rules_refuse_offer_no_time_and_say_why(client, front_desk, calendar, esi_booked):
    client.force_login(front_desk)
    response = client.post(ADD, form(calendar, calendar.patients[0], day=NEXT_THURSDAY.isoformat()))
    page = response.content.decode()
    assert "The pathway rules do not allow Thu 3 Dec:" in page and "At least 14 days must pass" in page
    assert "needs the relief from the last one" in page
    assert not offered(response) and "No day in the next two weeks is allowed by the pathway rules." in page


def test_a_physician_with_an_override_reason_sees_the_refused_times_and_why(
        client, practising_physician, calendar, esi_booked):
    client.force_login(practising_physician)
    without = client.post(ADD, form(calendar, calendar.patients[0], day=NEXT_THURSDAY.isoformat()))
    assert "Override reason" in without.content.decode()
    assert not any(choice.startswith("2026-12-03") for choice in offered(without))
    response = client.post(ADD, form(calendar, calendar.patients[0], day=NEXT_THURSDAY.isoformat(),
                                     override_reason="Flare; seen in clinic"))
    page = response.content.decode()
    refused = [choice for choice in offered(response) if choice.startswith("2026-12-03")]
    assert refused, "the refused Thursday is offered with the override"
    assert "The rules refuse this day; booking needs your override:" in page and "At least 14 days must pass" in page
    booked = client.post(ADD, form(calendar, calendar.patients[0], day=NEXT_THURSDAY.isoformat(),
                                   override_reason="Flare; seen in clinic", slot=refused[0], _book="1"))
    assert booked.status_code == 302
    overrides = Appointment.objects.get(procedure_start__gte=local(NEXT_THURSDAY, 0)).overrides.all()
    assert {override.reason for override in overrides} == {"Flare; seen in clinic"}
    assert any("At least 14 days must pass" in override.unmet for override in overrides)


def test_the_front_desk_never_sees_the_override(client, front_desk, calendar, esi_booked):
    client.force_login(front_desk)
    response = client.post(ADD, form(calendar, calendar.patients[0], day=NEXT_THURSDAY.isoformat(),
                                     override_reason="Patient insists"))
    page = response.content.decode()
    assert "Override reason" not in page and 'name="override_reason"' not in page
    assert not any(choice.startswith("2026-12-03") for choice in offered(response))


@pytest.mark.parametrize("query, words", [
    ({"start": "next week"}, "The time asked for is not a time"),
    ({"patient": "abc"}, "Select a valid choice"),
    ({"day": "2020-01-01"}, "Choose today or a later day."),
    ({"day": "soon"}, "Enter a valid date."),
    ({"location": "999999"}, "Select a valid choice"),
    ({"physician": "999999"}, "That physician is not taking appointments."),
])
def test_a_bad_query_string_is_an_error_in_words_not_a_crash(client, front_desk, calendar, query, words):
    client.force_login(front_desk)
    response = client.get(ADD, {"patient": calendar.patients[0].pk, "procedure_type": calendar.esi.pk,
                                "physician": calendar.okafor.pk, **query})
    assert response.status_code == 200 and words in response.content.decode()


def test_an_order_booked_already_is_not_offered_again(client, front_desk, calendar):
    client.force_login(front_desk)
    order = calendar.order_for(calendar.patients[0])
    services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi, physician=calendar.okafor,
                              start=local(NEXT_MONDAY, 9), order=order)
    response = client.get(ADD, {"patient": calendar.patients[0].pk, "order": order.pk})
    assert "That order is not open, or is booked already." in response.content.decode()
    assert not offered(response)


def test_a_nurse_may_not_book(client, nurse):
    client.force_login(nurse)
    assert client.get(ADD).status_code == 403


def test_cancelling_from_the_list_asks_for_a_reason(client, front_desk, nurse, calendar):
    calendar.order_for(calendar.patients[0])
    appointment = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                            physician=calendar.okafor, start=local(NEXT_MONDAY, 9))
    changelist = reverse("admin:scheduling_appointment_changelist")
    client.force_login(nurse)
    assert "cancel" not in client.get(changelist).context["action_form"].fields["action"].choices.__repr__()
    client.force_login(front_desk)
    ask = client.post(changelist, {"action": "cancel", "_selected_action": [appointment.pk]})
    assert ask.status_code == 200 and "Reason" in ask.content.decode()
    done = client.post(changelist, {"action": "cancel", "_selected_action": [appointment.pk], "apply": "1",
                                    "reason": "Patient called"})
    assert done.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED and appointment.cancel_reason == "Patient called"


def test_the_appointment_page_shows_its_history(client, front_desk, calendar, clock):
    calendar.order_for(calendar.patients[0])
    appointment = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                            physician=calendar.okafor, start=local(NEXT_MONDAY, 9),
                                            by=front_desk)
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    services.appointment_check_in(appointment=appointment, by=front_desk)
    client.force_login(front_desk)
    history = client.get(reverse("admin:scheduling_appointment_history", args=[appointment.pk]))
    assert history.status_code == 200
    page = history.content.decode()
    assert "Checked in" in page and "Booked" in page and front_desk.username in page
    assert client.get(reverse("admin:scheduling_appointment_change", args=[appointment.pk])).status_code == 200


def test_the_times_offered_reach_across_the_days_searched_a_few_per_physician_and_day(
        client, front_desk, calendar):
    import datetime as dt
    from collections import Counter

    from scheduling.bookable import SEARCH_DAYS, TIMES_PER_PHYSICIAN_DAY

    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    response = client.post(ADD, {**form(calendar, calendar.patients[0]), "_find": "1"})
    choices = offered(response)
    per_day = Counter((choice[:10], choice.split("|")[1]) for choice in choices)
    days = sorted({day for day, _physician in per_day})
    assert days[0] == NEXT_MONDAY.isoformat()
    assert max(count for (day, _physician), count in per_day.items() if day == days[0]) > TIMES_PER_PHYSICIAN_DAY
    assert max(count for (day, _physician), count in per_day.items() if day != days[0]) == TIMES_PER_PHYSICIAN_DAY
    assert days[-1] > (NEXT_MONDAY + dt.timedelta(days=SEARCH_DAYS // 2)).isoformat(), days
    assert len(days) >= 5, days


def test_the_booking_pages_queries_are_the_same_whichever_day_it_searches_from(client, front_desk, calendar):
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(front_desk)
    calendar.order_for(calendar.patients[0])
    data = {**form(calendar, calendar.patients[0]), "_find": "1"}
    client.post(ADD, data)  # the first request fills the caches
    with CaptureQueriesContext(connection) as near:
        client.post(ADD, data)
    with CaptureQueriesContext(connection) as later:
        client.post(ADD, {**data, "day": (NEXT_MONDAY + dt.timedelta(days=3)).isoformat()})
    assert len(near) == len(later)
