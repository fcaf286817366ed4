"""`availability_requests`: the engine's input for several procedure types from one load, each
the same as `availability_request` gives for that type alone."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from clinic.models import ProcedureType, TimeOff
from scheduling import catalog, services
from scheduling.availability import explain_unavailable, find_slots
from scheduling.selectors import availability_request, availability_requests, room_needs, with_room_needs
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.django_db


def _plain(request) -> dict:
    """The request with its spans in a fixed order (the engine sorts them itself)."""
    values = dataclasses.asdict(request)
    for physician in values["physicians"]:
        physician["busy"] = sorted(physician["busy"], key=str)
    for room in values["rooms"]:
        room["busy"] = sorted(room["busy"], key=str)
    values["recovery_busy"] = sorted(values["recovery_busy"], key=str)
    return values


def test_each_procedures_request_from_the_shared_load_is_the_one_it_gets_alone(calendar, django_assert_num_queries):
    services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.mbb, physician=calendar.okafor,
                              start=local(NEXT_MONDAY, 9), order=calendar.order_for(calendar.patients[0], calendar.mbb))
    TimeOff.objects.create(physician=calendar.okafor, starts_at=local(NEXT_MONDAY, 13), ends_at=local(NEXT_MONDAY, 15))
    procedure_types = list(ProcedureType.objects.filter(is_active=True).prefetch_related(
        "required_capabilities", "alternative_capabilities"))
    assert {each.schedule_kind for each in procedure_types} == {"procedures", "clinic"}
    arguments = dict(location=calendar.location, first_day=NEXT_MONDAY, last_day=NEXT_MONDAY, now=NOW)
    catalog.current()  # blocks, closures and rooms come from the catalog held in memory, read once
    with django_assert_num_queries(2):  # time off with out of service and holds, visits
        shared = availability_requests(procedure_types=procedure_types, **arguments)
    for procedure_type in procedure_types:
        alone = availability_request(procedure_type=procedure_type, **arguments)
        assert _plain(shared[procedure_type.pk]) == _plain(alone), procedure_type.code
    assert any(request.physicians and request.rooms for request in shared.values())


def test_procedures_read_with_their_room_needs_ask_the_same_of_rooms_without_more_queries(
        calendar, django_assert_num_queries):
    prefetched = {each.pk: each for each in ProcedureType.objects.filter(is_active=True).prefetch_related(
        "required_capabilities", "alternative_capabilities")}
    with django_assert_num_queries(1):
        annotated = list(with_room_needs(ProcedureType.objects.filter(is_active=True)))
        needs = {each.pk: room_needs(each) for each in annotated}
    assert needs == {pk: room_needs(each) for pk, each in prefetched.items()}
    assert any(required for required, _ in needs.values()) and any(either for _, either in needs.values())
    arguments = dict(location=calendar.location, first_day=NEXT_MONDAY, last_day=NEXT_MONDAY, now=NOW)
    catalog.current()
    with django_assert_num_queries(2):  # the load alone: nothing more for the procedures' needs
        shared = availability_requests(procedure_types=annotated, **arguments)
    expected = availability_requests(procedure_types=list(prefetched.values()), **arguments)
    assert {pk: _plain(request) for pk, request in shared.items()} == \
        {pk: _plain(request) for pk, request in expected.items()}


def test_a_window_no_block_falls_in_reads_no_busy_spans_yet_still_names_the_missing_block(
        calendar, django_assert_num_queries):
    esi = with_room_needs(ProcedureType.objects.filter(code="ESI_IL")).get()
    weekend = dict(location=calendar.location, first_day=NEXT_MONDAY - dt.timedelta(days=2),
                   last_day=NEXT_MONDAY - dt.timedelta(days=1), now=NOW)
    catalog.current()
    with django_assert_num_queries(0):  # blocks and closures are held in memory; no busy span is read
        request = availability_request(procedure_type=esi, **weekend)
    assert request.physicians and not request.rooms and not find_slots(request)
    assert explain_unavailable(request, local(NEXT_MONDAY - dt.timedelta(days=1), 9), request.physicians[0].id) == \
        "The physician has no schedule block of this kind at that time."
    catalog.current()
    with django_assert_num_queries(2):  # a window reaching Monday reads the busy spans
        monday = availability_request(procedure_type=esi, **{**weekend, "last_day": NEXT_MONDAY})
    assert monday.rooms and find_slots(monday)
