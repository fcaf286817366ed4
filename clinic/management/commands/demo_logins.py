from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic import roles
from clinic.demo import PHYSICIANS

DEMO_PASSWORD = "interval-demo"

# (username, role group or None for the superuser, first name, last name)
STAFF = [
    ("admin", None, "Demo", "Administrator"),
    ("manager", roles.CLINIC_MANAGER, "Morgan", "Manager"),
    ("frontdesk", roles.FRONT_DESK, "Frankie", "Desk"),
    ("nurse", roles.NURSE, "Nora", "Nurse"),
]


class Command(BaseCommand):
    help = "Development only: give the demo staff logins (admin, each role, the demo physicians) a known password."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_logins only runs with DEBUG on: it sets a known password.")
        User = get_user_model()
        with transaction.atomic():
            for username, role, first, last in STAFF:
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={"first_name": first, "last_name": last, "is_staff": True, "is_superuser": role is None},
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
                if role:
                    user.groups.add(Group.objects.get(name=role))
            physicians = [username for username, *_ in PHYSICIANS]
            # Only logins that have no password yet get the demo one: a restart keeps people
            # signed in and keeps a password someone changed.
            for user in User.objects.filter(username__in=physicians):
                if not user.has_usable_password():
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
        self.stdout.write(self.style.WARNING(f"Demo logins (development only), password '{DEMO_PASSWORD}':"))
        self.stdout.write(f"  admin (superuser), manager, frontdesk, nurse, {', '.join(physicians)} (physicians)")
