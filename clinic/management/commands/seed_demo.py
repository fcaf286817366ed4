from django.core.management.base import BaseCommand
from django.utils import timezone

from clinic.demo import seed_demo_clinic


class Command(BaseCommand):
    help = "Create or update the demo clinic (Bartlesville, OK): catalog, rooms, physicians, schedules, patients."

    def handle(self, *args, **options):
        report = seed_demo_clinic(today=timezone.localdate())
        self.stdout.write(self.style.SUCCESS("Demo clinic ready:"))
        for line in report.lines():
            self.stdout.write(f"  {line}")
