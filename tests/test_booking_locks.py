"""The booking lock fits the capacity it protects: one location's recovery bays on one local day.

Bookings on different days of one location go ahead at once; on the same day they queue.
Each PostgreSQL test holds a booking's transaction open in a thread while a second booking
runs with a lock timeout: waiting on the first would end it with an error instead of a visit.
"""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import OperationalError, connection, connections, transaction

from clinic.models import Location
from scheduling import services
from scheduling.locks import visit_days
from scheduling.models import Appointment
from tests.conftest import NEXT_MONDAY, local

CHICAGO = ZoneInfo("America/Chicago")


class OpenBooking:
    """A booking whose transaction stays open (its locks held) until `finish()`."""

    def __init__(self, **booking):
        self._booked, self._release = threading.Event(), threading.Event()
        self.result = None
        self._thread = threading.Thread(target=self._run, kwargs=booking)

    def _run(self, **booking):
        try:
            with transaction.atomic():
                self.result = services.appointment_book(**booking)
                self._booked.set()
                self._release.wait(timeout=60)
        except Exception as error:  # asserted on by the test
            self.result = error
        finally:
            self._booked.set()
            connections.close_all()

    def __enter__(self):
        self._thread.start()
        self._booked.wait(timeout=60)
        assert isinstance(self.result, Appointment), self.result
        return self

    def __exit__(self, *exc):
        self._release.set()
        self._thread.join(timeout=60)


def book_meanwhile(**booking):
    """Book in another connection, giving up on any lock held longer than a few seconds."""
    outcome: list = []

    def run():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")
                outcome.append(services.appointment_book(**booking))
        except Exception as error:
            outcome.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    return outcome[0]


@pytest.mark.django_db(transaction=True)
def test_bookings_on_different_days_at_one_location_go_ahead_at_once(postgres, calendar):
    first, second = calendar.patients[:2]
    calendar.order_for(first)
    calendar.order_for(second)

    with OpenBooking(patient=first, procedure_type=calendar.esi, physician=calendar.okafor,
                     start=local(NEXT_MONDAY, 9)):
        meanwhile = book_meanwhile(patient=second, procedure_type=calendar.esi, physician=calendar.okafor,
                                   start=local(NEXT_MONDAY + dt.timedelta(days=7), 9))
        assert isinstance(meanwhile, Appointment), meanwhile
        committed_while_first_open = Appointment.objects.filter(pk=meanwhile.pk).exists()
    assert committed_while_first_open
    assert Appointment.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_bookings_on_the_same_day_at_one_location_queue(postgres, calendar):
    first, second = calendar.patients[:2]
    calendar.order_for(first)
    calendar.order_for(second)

    with OpenBooking(patient=first, procedure_type=calendar.esi, physician=calendar.okafor,
                     start=local(NEXT_MONDAY, 9)):
        meanwhile = book_meanwhile(patient=second, procedure_type=calendar.esi, physician=calendar.okafor,
                                   start=local(NEXT_MONDAY, 13))
    assert isinstance(meanwhile, OperationalError) and "lock timeout" in str(meanwhile), meanwhile


@pytest.mark.django_db(transaction=True)
def test_a_reschedule_waits_for_a_booking_on_the_day_it_leaves(postgres, calendar):
    first, second = calendar.patients[:2]
    calendar.order_for(first)
    calendar.order_for(second)
    moving = services.appointment_book(patient=second, procedure_type=calendar.esi, physician=calendar.okafor,
                                       start=local(NEXT_MONDAY, 13))
    outcome: list = []

    with OpenBooking(patient=first, procedure_type=calendar.esi, physician=calendar.okafor,
                     start=local(NEXT_MONDAY, 9)):
        def run():
            try:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '5s'")
                    outcome.append(services.appointment_reschedule(
                        appointment=Appointment.objects.get(pk=moving.pk),
                        start=local(NEXT_MONDAY + dt.timedelta(days=7), 9)))
            except Exception as error:
                outcome.append(error)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=60)
    assert isinstance(outcome[0], OperationalError) and "lock timeout" in str(outcome[0]), outcome


def test_a_visit_whose_span_crosses_midnight_takes_both_days():
    location = Location(pk=3, time_zone="America/Chicago")
    late = dt.datetime(2026, 11, 30, 22, 30, tzinfo=CHICAGO)

    assert visit_days(location, late, late + dt.timedelta(hours=3)) == [
        (3, dt.date(2026, 11, 30)), (3, dt.date(2026, 12, 1))]
    assert visit_days(location, late, late + dt.timedelta(minutes=90)) == [(3, dt.date(2026, 11, 30))]


def test_a_visit_across_the_night_clocks_go_back_takes_the_days_it_touches_locally():
    location = Location(pk=3, time_zone="America/Chicago")
    # 2026-11-01 01:00-02:00 happens twice in Chicago: three hours from 23:30 end at 01:30 CST.
    start = dt.datetime(2026, 10, 31, 23, 30, tzinfo=CHICAGO)
    end = start.astimezone(dt.timezone.utc) + dt.timedelta(hours=3)

    assert visit_days(location, start, end) == [(3, dt.date(2026, 10, 31)), (3, dt.date(2026, 11, 1))]
    assert visit_days(location, end, end + dt.timedelta(hours=1)) == [(3, dt.date(2026, 11, 1))]
