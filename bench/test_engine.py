"""pytest-benchmark: the pure engine (`find_slots`) and the selector (`available_slots`).

Run by `make bench` (bench/run.py) after seeding; alone, the engine's needs no database:
`.venv/bin/python -m pytest bench/test_engine.py -k find_slots`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from scheduling import availability as engine

ZONE = ZoneInfo("America/Chicago")
FIRST_DAY = dt.date(2026, 12, 1)  # a Tuesday: 22 weekdays in 30 days, 64 in 90
BOOKED_HOURS = [(8, 0), (9, 30), (11, 0), (12, 30), (14, 0), (15, 30)]  # six 30-minute visits a day each


def plain_month(days: int) -> engine.Request:
    """10 physicians, 30-minute visits on a 30-minute grid, 08:00-17:00 weekdays, 6 bookings each a day;
    one room, no recovery: the physicians are the only resource."""
    last_day = FIRST_DAY + dt.timedelta(days=days - 1)
    blocks = [engine.WeeklyBlock(weekday, dt.time(8), dt.time(17), FIRST_DAY) for weekday in range(5)]
    booked = [
        (start, start + dt.timedelta(minutes=30))
        for offset in range(days) if (day := FIRST_DAY + dt.timedelta(days=offset)).weekday() < 5
        for hour, minute in BOOKED_HOURS
        if (start := dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE))
    ]
    return engine.Request(
        segments=engine.Segments(prep=0, procedure=30, recovery=0), zone=ZONE, first_day=FIRST_DAY, last_day=last_day,
        physicians=[engine.PhysicianInput(id=physician, blocks=blocks, busy=booked) for physician in range(1, 11)],
        rooms=[engine.RoomInput(id=1)], recovery_bays=1, grid_minutes=30)


@pytest.mark.parametrize(("days", "free"), [(30, 2_640), (90, 7_680)])
def test_find_slots_plain_month(benchmark, days, free):
    request = plain_month(days)
    slots = benchmark(engine.find_slots, request)
    assert len(slots) == free


@pytest.mark.django_db
def test_available_slots_large_clinic_30_days(benchmark):
    """ESI_IL, all physicians, the 30 days from tomorrow at the large clinic: what the API's
    availability asks, without the HTTP stack."""
    from clinic.models import Location, ProcedureType
    from scheduling.selectors import available_slots

    location = Location.objects.order_by("pk").first()
    procedure_type = ProcedureType.objects.get(code="ESI_IL")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    benchmark(lambda: available_slots(procedure_type=procedure_type, location=location, now=timezone.now(),
                                      first_day=tomorrow, last_day=tomorrow + dt.timedelta(days=29)))
