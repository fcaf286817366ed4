"""`manage.py catalog_changed`: every process reads the catalog afresh (after a change made in
the database directly, not through Interval; scheduling/catalog.py)."""

from django.core.management.base import BaseCommand

from scheduling import catalog


class Command(BaseCommand):
    help = "Make every process read the catalog (procedure types, physicians, rooms, rules, reminder plans, " \
           "webhook endpoints, blood thinners) afresh, after a change made in the database directly."

    def handle(self, *args, **options):
        catalog.forget()
        if catalog.shared():
            self.stdout.write("Every process reads the catalog afresh on its next use.")
        else:
            self.stdout.write("Without CACHE_URL, each process reads the catalog afresh within "
                              "CATALOG_MAX_AGE_SECONDS of its last read.")
