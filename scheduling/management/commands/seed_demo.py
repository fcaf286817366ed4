from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clinic.demo import seed_demo_clinic
from scheduling.demo import seed_demo_pathways, seed_demo_reminder_plans


class Command(BaseCommand):
    help = ("Create what is missing of the demo clinic (Bartlesville, OK): catalog, rooms, physicians, schedules, "
            "patients, pathway rules, reminder plans. Rows already there, and edits made in the admin, are kept.")

    def handle(self, *args, **options):
        with transaction.atomic():
            report = seed_demo_clinic(today=timezone.localdate())
            seed_demo_pathways(report)
            seed_demo_reminder_plans(report)
        self.stdout.write(self.style.SUCCESS("Demo clinic ready:"))
        for line in report.lines():
            self.stdout.write(f"  {line}")
