from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from clinic.models import Location, Patient
from clinic.phone_numbers import raw, unreadable


class Command(BaseCommand):
    help = ("List the stored phone numbers that are not valid numbers (left as typed when numbers moved "
            "to E.164), with the admin page to correct each. Exits with status 1 when there are any.")

    def handle(self, *args, **options):
        found = []
        for model in (Location, Patient):
            for pk, phone in model.objects.exclude(phone="").order_by("pk").values_list("pk", "phone"):
                if unreadable(phone):
                    found.append((model, pk, raw(phone)))
        if not found:
            self.stdout.write("Every stored phone number is a valid number in E.164.")
            return
        for model, pk, typed in found:
            page = reverse(f"admin:clinic_{model._meta.model_name}_change", args=[pk])
            self.stdout.write(f"{model._meta.verbose_name.capitalize()} {pk}: {typed!r}  ({page})")
        raise CommandError(f"{len(found)} phone number(s) cannot be read as numbers; correct them in the admin.")
