"""Acting on a visit from the staff's day: the actions each role is offered, the routes that take
them through the lifecycle services, and the pre-procedure checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from clinic.models import BloodThinner, ProcedureType
from scheduling import services
from scheduling.admin.board.actions import actions_for
from scheduling.errors import ChecksMissing
from scheduling.models import AppointmentStatus, CheckKind, PreProcedureCheck
from scheduling.pathways.checks import checks_needed, visit_checks
from tests.conftest import NEXT_MONDAY, local
from tests.test_booking_services import book

S = AppointmentStatus
ON_THE_DAY = local(NEXT_MONDAY, 8, 40)  # the visit: arrival 08:30, procedure 09:00


def names(actions) -> list[str]:
    return [action.name for action in actions]


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(client, visit, action, **data):
    return client.post(reverse("board:visit-action", args=[visit.pk, action]), data)


@pytest.fixture
def visit(calendar):
    """An ESI on Monday at 09:00 (arrival 08:30) for a patient on no blood thinner: it needs a
    signed consent form only."""
    calendar.patients[0].blood_thinners.clear()
    return book(calendar)


@pytest.fixture
def on_the_day(clock):
    clock.move_to(ON_THE_DAY)


# What each role is offered -------------------------------------------------------------------

def test_the_front_desk_is_offered_desk_work_and_not_the_procedure(front_desk, visit, on_the_day):
    assert names(actions_for(front_desk, visit, now=ON_THE_DAY)) == [
        "check-in", "confirm", "no-show", "cancel", "reschedule"]
    services.appointment_check_in(appointment=visit, by=front_desk)
    assert names(actions_for(front_desk, visit, now=ON_THE_DAY)) == ["checks", "cancel"]


def test_a_nurse_is_offered_check_in_and_the_procedure_but_never_cancel_or_reschedule(nurse, visit, on_the_day):
    offered = actions_for(nurse, visit, now=ON_THE_DAY)
    assert names(offered) == ["check-in"]
    assert offered[0].asks == "checks" and offered[0].url == reverse("board:visit-check-in", args=[visit.pk])
    services.appointment_check_in(appointment=visit, by=nurse)
    offered = actions_for(nurse, visit, now=ON_THE_DAY)
    assert [(action.name, action.asks) for action in offered] == [("checks", "checks"), ("start", "reason")]
    services.appointment_start(appointment=visit, by=nurse, reason="Consent signed on paper")
    assert [(action.name, action.asks) for action in actions_for(nurse, visit, now=ON_THE_DAY)] == [
        ("recovery", None), ("complete", None)]


def test_starting_is_one_button_once_the_checks_are_confirmed(nurse, visit, on_the_day):
    services.appointment_check_in(appointment=visit, by=nurse, confirmed_checks=[CheckKind.CONSENT])
    assert [(action.name, action.asks) for action in actions_for(nurse, visit, now=ON_THE_DAY)] == [
        ("start", None)]


def test_a_physician_moves_the_procedure_on_but_does_not_check_in(physician_user, visit, on_the_day):
    assert names(actions_for(physician_user, visit, now=ON_THE_DAY)) == []
    services.appointment_check_in(appointment=visit, confirmed_checks=[CheckKind.CONSENT])
    assert names(actions_for(physician_user, visit, now=ON_THE_DAY)) == ["start"]


def test_check_in_is_offered_on_the_visits_day_only_and_no_show_after_arrival(front_desk, visit):
    day_before = local(NEXT_MONDAY - dt.timedelta(days=1), 9)
    assert "check-in" not in names(actions_for(front_desk, visit, now=day_before))
    assert "no-show" not in names(actions_for(front_desk, visit, now=local(NEXT_MONDAY, 8, 29)))
    assert "no-show" in names(actions_for(front_desk, visit, now=local(NEXT_MONDAY, 8, 30)))


def test_a_visit_without_checks_is_checked_in_with_one_button(calendar, client, front_desk, on_the_day):
    consult = book(calendar, procedure_type=calendar.consult, physician=calendar.reyes, start=local(NEXT_MONDAY, 9))
    first = actions_for(front_desk, consult, now=ON_THE_DAY)[0]
    assert (first.name, first.asks) == ("check-in", None)
    client.force_login(front_desk)
    response = client.post(first.url, {})
    consult.refresh_from_db()
    assert response.status_code == 302 and consult.status == S.CHECKED_IN


# The routes ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "before", "action", "data", "after"), [
    ("front_desk", [], "confirm", {}, S.CONFIRMED),
    ("front_desk", [], "no-show", {}, S.NO_SHOW),
    ("front_desk", [], "cancel", {"reason": "Patient has the flu"}, S.CANCELLED),
    ("nurse", ["check_in"], "start", {"reason": "Consent signed on paper"}, S.IN_PROCEDURE),
    ("nurse", ["check_in", "start"], "recovery", {}, S.IN_RECOVERY),
    ("nurse", ["check_in", "start"], "complete", {}, S.COMPLETED),
    ("manager", ["check_in", "start", "recovery"], "complete", {}, S.COMPLETED),
])
def test_each_action_goes_through_its_route(request, client, visit, on_the_day, role, before, action, data, after):
    user = request.getfixturevalue(role)
    steps = {"check_in": services.appointment_check_in, "recovery": services.appointment_move_to_recovery,
             "start": lambda appointment: services.appointment_start(appointment=appointment, reason="On paper")}
    for step in before:
        steps[step](appointment=visit)
    client.force_login(user)
    response = act(client, visit, action, next="/admin/board/arrivals/?date=2026-11-30", **data)
    visit.refresh_from_db()
    assert visit.status == after
    assert response.status_code == 302 and response.url == "/admin/board/arrivals/?date=2026-11-30"
    assert said(response)[0].startswith(visit.patient.full_name)


def test_a_refused_transition_is_said_in_words(client, nurse, visit, on_the_day):
    client.force_login(nurse)
    response = act(client, visit, "complete")
    visit.refresh_from_db()
    assert visit.status == S.SCHEDULED
    assert said(response) == [f"{visit.patient.full_name}: This visit is scheduled; it cannot be completed."]


def test_a_no_show_before_the_arrival_time_is_refused_in_words(client, front_desk, visit, clock):
    clock.move_to(local(NEXT_MONDAY, 8))
    client.force_login(front_desk)
    response = act(client, visit, "no-show")
    visit.refresh_from_db()
    assert visit.status == S.SCHEDULED
    assert "a no-show can be marked after that" in said(response)[0]


def test_cancelling_without_a_reason_is_refused_in_words(client, front_desk, visit):
    client.force_login(front_desk)
    response = act(client, visit, "cancel", reason="  ")
    visit.refresh_from_db()
    assert visit.status == S.SCHEDULED and said(response) == [
        f"{visit.patient.full_name}: Say why the visit is cancelled."]


@pytest.mark.parametrize(("role", "action", "before"), [
    ("nurse", "cancel", []),
    ("nurse", "no-show", []),
    ("nurse", "confirm", []),
    ("front_desk", "start", ["check_in"]),
    ("front_desk", "recovery", ["check_in"]),
    ("front_desk", "complete", ["check_in"]),
    ("physician_user", "cancel", []),
    ("physician_user", "check-in", []),
])
def test_the_wrong_role_is_refused_by_the_server(request, client, visit, on_the_day, role, action, before):
    for step in before:
        getattr(services, f"appointment_{step}")(appointment=visit)
    status = visit.status
    client.force_login(request.getfixturevalue(role))
    response = act(client, visit, action, reason="Because")
    visit.refresh_from_db()
    assert response.status_code == 403 and visit.status == status


def test_staff_without_a_role_cannot_open_the_check_in_page(client, visit, on_the_day):
    from tests.conftest import _staff

    client.force_login(_staff("no-role", None))
    assert client.get(reverse("board:visit-check-in", args=[visit.pk])).status_code == 403


def test_an_action_is_posted_never_taken_by_a_link(client, front_desk, visit):
    client.force_login(front_desk)
    response = client.get(reverse("board:visit-action", args=[visit.pk, "confirm"]))
    visit.refresh_from_db()
    assert response.status_code == 405 and visit.status == S.SCHEDULED


def test_an_unknown_action_is_not_found(client, front_desk, visit):
    client.force_login(front_desk)
    assert act(client, visit, "teleport").status_code == 404


def test_an_unknown_visit_is_said_in_words(client, front_desk, visit):
    client.force_login(front_desk)
    response = act(client, visit, "confirm") and client.post(reverse("board:visit-action", args=[999999, "confirm"]))
    assert response.status_code == 302 and said(response)[-1] == (
        "There is no visit with ID 999999; it may have been deleted.")


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_an_offsite_next_goes_back_to_the_visits_day_instead(client, front_desk, visit, unsafe):
    client.force_login(front_desk)
    response = act(client, visit, "confirm", next=unsafe)
    assert response.status_code == 302
    assert response.url.endswith(f"?location={visit.location_id}&date=2026-11-30")
    assert "evil" not in response.url and "javascript" not in response.url


# Pre-procedure checks ------------------------------------------------------------------------

def test_the_checks_a_visit_needs_follow_the_procedure_and_the_patients_drugs(calendar):
    patient = calendar.patients[1]
    patient.blood_thinners.set([BloodThinner.objects.get(name__iexact="warfarin")])
    rfa = ProcedureType.objects.get(code="SYMPATHETIC_BLOCK")  # moderate sedation, intermediate bleeding risk
    visit = book(calendar, patient=patient, procedure_type=rfa, start=local(NEXT_MONDAY + dt.timedelta(days=14), 9))
    needs = checks_needed(visit)
    assert [need.kind for need in needs] == ["fasting", "driver", "blood_thinner", "consent"]
    assert "Warfarin: no dose since" in needs[2].detail
    consult = book(calendar, patient=calendar.patients[2], procedure_type=calendar.consult,
                   physician=calendar.reyes, start=local(NEXT_MONDAY, 13))
    assert checks_needed(consult) == []


def test_the_check_in_pages_breadcrumb_names_the_page_it_came_from(client, nurse, visit, on_the_day):
    client.force_login(nurse)
    url = reverse("board:visit-check-in", args=[visit.pk])
    page = client.get(url).content.decode()
    assert ">Day board</a>" in page and "The day" not in page
    page = client.get(url, {"next": "/admin/board/arrivals/?date=2026-11-30"}).content.decode()
    assert '<a href="/admin/board/arrivals/?date=2026-11-30">Arrivals</a>' in page


def test_check_in_records_the_checks_seen_by_the_user(client, nurse, visit, on_the_day):
    client.force_login(nurse)
    page = client.get(reverse("board:visit-check-in", args=[visit.pk]))
    assert "Consent form signed" in page.content.decode()
    response = client.post(reverse("board:visit-check-in", args=[visit.pk]), {"checks": ["consent"]})
    visit.refresh_from_db()
    assert response.status_code == 302 and visit.status == S.CHECKED_IN
    check = PreProcedureCheck.objects.get(appointment=visit)
    assert (check.kind, check.confirmed_by, check.confirmed_at) == ("consent", nurse, ON_THE_DAY)
    assert visit_checks(visit).complete


def test_a_check_left_open_at_check_in_can_be_confirmed_before_the_start(client, nurse, front_desk, visit,
                                                                        on_the_day):
    client.force_login(front_desk)
    client.post(reverse("board:visit-check-in", args=[visit.pk]), {})
    visit.refresh_from_db()
    assert visit.status == S.CHECKED_IN and not visit_checks(visit).complete
    client.force_login(nurse)
    client.post(reverse("board:visit-check-in", args=[visit.pk]), {"checks": ["consent"]})
    check = PreProcedureCheck.objects.get(appointment=visit)
    assert check.confirmed_by == nurse and visit_checks(visit).complete


def test_a_check_the_visit_does_not_need_is_refused(client, nurse, visit, on_the_day):
    client.force_login(nurse)
    response = client.post(reverse("board:visit-check-in", args=[visit.pk]), {"checks": ["driver"]})
    visit.refresh_from_db()
    assert response.status_code == 200 and visit.status == S.SCHEDULED
    assert "Select a valid choice" in response.content.decode()


def test_starting_with_checks_missing_needs_a_reason_which_stays_on_the_record(client, nurse, visit, on_the_day):
    services.appointment_check_in(appointment=visit, by=nurse)
    with pytest.raises(ChecksMissing, match="Not confirmed: consent form signed"):
        services.appointment_start(appointment=visit, by=nurse)
    client.force_login(nurse)
    refused = act(client, visit, "start", reason="")
    visit.refresh_from_db()
    assert visit.status == S.CHECKED_IN and "Not confirmed: consent form signed" in said(refused)[0]
    act(client, visit, "start", reason="Consent signed in the hospital's form")
    visit.refresh_from_db()
    assert visit.status == S.IN_PROCEDURE
    assert PreProcedureCheck.objects.get(appointment=visit).missing_reason == "Consent signed in the hospital's form"
    assert visit.history.first().history_change_reason == (
        "Started without consent form signed: Consent signed in the hospital's form")
    assert visit.history.first().history_user == nurse


def test_checking_in_before_the_visits_day_is_refused_in_words(client, front_desk, visit, clock):
    client.force_login(front_desk)
    response = client.post(reverse("board:visit-check-in", args=[visit.pk]), {"checks": ["consent"]})
    visit.refresh_from_db()
    assert response.status_code == 200 and visit.status == S.SCHEDULED
    assert said(response) == [
        f"{visit.patient.full_name}: Patients check in on the day of their visit (Monday November 30)."]
    assert not PreProcedureCheck.objects.filter(appointment=visit).exists()


def test_checks_are_not_recorded_through_check_in_once_the_procedure_has_started(client, nurse, visit, on_the_day):
    services.appointment_check_in(appointment=visit)
    services.appointment_start(appointment=visit, reason="Consent signed on paper")
    client.force_login(nurse)
    response = client.post(reverse("board:visit-check-in", args=[visit.pk]), {"checks": ["consent"]})
    assert said(response) == [f"{visit.patient.full_name}: This visit is in procedure; it cannot be checked in."]
    assert not PreProcedureCheck.objects.get(appointment=visit).is_confirmed


def test_the_checks_service_refuses_a_visit_no_longer_between_check_in_and_start(nurse, visit, on_the_day):
    from scheduling.errors import InvalidTransition
    from scheduling.services.checks import visit_checks_confirm

    services.appointment_check_in(appointment=visit)
    services.appointment_start(appointment=visit, reason="Consent signed on paper")
    with pytest.raises(InvalidTransition, match="its checks are recorded between check-in and the start"):
        visit_checks_confirm(appointment=visit, confirmed=["consent"], by=nurse, now=ON_THE_DAY)


def test_a_completed_visit_without_an_outcome_prompts_whoever_may_record_it(
        nurse, front_desk, visit, on_the_day, django_assert_num_queries):
    from scheduling.models import Outcome

    services.appointment_check_in(appointment=visit, by=nurse)
    services.appointment_start(appointment=visit, by=nurse, reason="Consent signed on paper")
    services.appointment_complete(appointment=visit, by=nurse)
    visit.refresh_from_db()
    offered = actions_for(nurse, visit, now=ON_THE_DAY)
    assert [(action.name, action.asks) for action in offered] == [("outcome", "page")]
    assert offered[0].label == "Record outcome…"
    assert offered[0].url == reverse("admin:scheduling_appointment_change", args=[visit.pk]) + "#outcome-group"
    assert "outcome" not in names(actions_for(front_desk, visit, now=ON_THE_DAY))
    with django_assert_num_queries(0):
        assert names(actions_for(nurse, visit, now=ON_THE_DAY, has_outcome=True)) == []
    Outcome.objects.create(appointment=visit, pain_before=7, pain_after=2, relief_percent=70)
    assert "outcome" not in names(actions_for(nurse, visit, now=ON_THE_DAY))


def test_the_record_outcome_link_lands_on_the_outcome_form_with_its_labels_capitalised(
        client, nurse, visit, on_the_day):
    services.appointment_check_in(appointment=visit, by=nurse)
    services.appointment_start(appointment=visit, by=nurse, reason="Consent signed on paper")
    services.appointment_complete(appointment=visit, by=nurse)
    visit.refresh_from_db()
    (action,) = actions_for(nurse, visit, now=ON_THE_DAY)
    client.force_login(nurse)
    page = client.get(action.url.split("#")[0]).content.decode()
    assert f'id="{action.url.split("#")[1]}"' in page
    assert "Relief (%)" in page and "relief (%)" not in page
