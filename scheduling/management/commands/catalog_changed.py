"""`manage.py catalog_changed`: every process reads the catalog afresh (after a change made in
the database directly, not through Interval; scheduling/catalog.py)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scheduling import catalog


class Command(BaseCommand):
    help = "Make every process read the catalog (procedure types, physicians, rooms, rules, reminder plans, " \
           "webhook endpoints, blood thinners) afresh, after a change made in the database directly."

    def handle(self, *args, **options):
        if not catalog.shared():
            self.stdout.write(
                "CACHE_URL is not set here, so nothing is shared to change: each process reads the catalog "
                f"afresh on its own within CATALOG_MAX_AGE_SECONDS ({settings.CATALOG_MAX_AGE_SECONDS} s) of its "
                "last read. If the servers run with CACHE_URL, run this command with the same CACHE_URL.")
            return
        try:
            catalog.forget()
        except Exception as error:  # the cache's client raises its own errors (redis.ConnectionError, ...)
            raise CommandError(f"The shared cache at CACHE_URL could not be reached ({error}); "
                               "nothing was changed.") from None
        self.stdout.write("Every process reads the catalog afresh on its next use.")
