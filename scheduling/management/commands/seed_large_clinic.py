from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scheduling.large_clinic import ClinicNotEmpty, seed_large_clinic


class Command(BaseCommand):
    help = ("Seed the benchmark's large clinic into an empty, migrated database: the demo clinic grown to "
            "10 physicians, 12 rooms, 2,000 patients and 5,000 appointments over the next 60 days, a board day "
            "of 150 visits after them, and with --locations N, N-1 more locations with empty calendars.")

    def add_arguments(self, parser):
        parser.add_argument("--locations", type=int, default=1,
                            help="How many locations (1 to 25); the first is the large clinic.")

    def handle(self, *args, **options):
        if not 1 <= options["locations"] <= 25:
            raise CommandError("--locations must be between 1 and 25.")
        try:
            clinic = seed_large_clinic(today=timezone.localdate(), locations=options["locations"])
        except ClinicNotEmpty as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(self.style.SUCCESS(
            f"Large clinic ready: {len(clinic.location_ids)} location(s), {clinic.patient_count:,} patients, "
            f"{clinic.appointment_count:,} appointments from {clinic.first_day} to {clinic.last_day}, "
            f"board day {clinic.board_day}."))
