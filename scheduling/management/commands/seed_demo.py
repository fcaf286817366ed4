from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clinic.demo import seed_demo_clinic
from scheduling.demo import seed_demo_pathways, seed_demo_reminder_plans, seed_demo_webhook_endpoint
from scheduling.demo_careplans import seed_demo_care_plan_templates
from scheduling.demo_feeds import seed_demo_calendar_feeds
from scheduling.demo_activity import seed_demo_activity


class Command(BaseCommand):
    help = ("Create what is missing of the demo clinic (Bartlesville, OK): catalog, rooms, physicians, schedules, "
            "patients, pathway rules, reminder plans, care-plan templates, calendar feeds, an inactive example webhook endpoint, and a few weeks of visits around today. Rows already there, "
            "and edits made in the admin, are kept.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-activity", action="store_true",
            help="Leave out the visits (past weeks with outcomes, today's and the coming days'): an empty calendar.")

    def handle(self, *args, **options):
        with transaction.atomic():
            report = seed_demo_clinic(today=timezone.localdate())
            seed_demo_pathways(report)
            seed_demo_reminder_plans(report)
            seed_demo_care_plan_templates(report)
            seed_demo_webhook_endpoint(report)
            seed_demo_calendar_feeds(report)
            if not options["no_activity"]:
                seed_demo_activity(report, now=timezone.now())
        self.stdout.write(self.style.SUCCESS("Demo clinic ready:"))
        for line in report.lines():
            self.stdout.write(f"  {line}")
