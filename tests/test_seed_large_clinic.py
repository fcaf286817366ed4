"""`manage.py seed_large_clinic`: the benchmark's clinic goes into an empty database only."""

import pytest
from django.core.management import CommandError, call_command

from clinic.models import Location
from scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def test_seeding_the_large_clinic_over_an_existing_clinic_is_refused(demo_clinic):
    visits = Appointment.objects.count()
    with pytest.raises(CommandError, match="already has a clinic"):
        call_command("seed_large_clinic")
    assert Location.objects.count() == 1 and Appointment.objects.count() == visits


@pytest.mark.parametrize("locations", ["0", "26"])
def test_a_number_of_locations_out_of_range_is_refused(locations):
    with pytest.raises(CommandError, match="--locations must be between 1 and 25"):
        call_command("seed_large_clinic", "--locations", locations)
