"""Phone numbers to E.164 ("(918) 555-0111" becomes "+19185550111"), read in PHONE_DEFAULT_REGION.

A number that does not read as a valid one is left exactly as typed (no data is lost) and listed
here during migrate; `python manage.py phone_numbers_check` lists them again later.
"""

import phonenumber_field.modelfields
from django.conf import settings
from django.db import migrations

from clinic.phone_numbers import to_e164_rows


def numbers_to_e164(apps, schema_editor):
    unparseable = []
    for model_name in ("Location", "Patient"):
        model = apps.get_model("clinic", model_name)
        rows = model.objects.exclude(phone="").values_list("pk", "phone")
        converted, left = to_e164_rows(rows.iterator(), region=settings.PHONE_DEFAULT_REGION)
        for pk, number in converted.items():
            model.objects.filter(pk=pk).update(phone=number)
        unparseable += [(model_name, pk, typed) for pk, typed in left]
    if unparseable:
        print(f"\n  {len(unparseable)} phone number(s) could not be read as numbers of region "
              f"{settings.PHONE_DEFAULT_REGION} and were left as typed; correct them in the admin:")
        for model_name, pk, typed in unparseable:
            print(f"    {model_name} {pk}: {typed!r}")


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0009_sign_in_lockout_permissions'),
    ]

    operations = [
        # While the columns are still plain text: the values read back exactly as typed.
        migrations.RunPython(numbers_to_e164, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='historicallocation',
            name='phone',
            field=phonenumber_field.modelfields.PhoneNumberField(max_length=32, region=None, verbose_name='phone'),
        ),
        migrations.AlterField(
            model_name='historicalpatient',
            name='phone',
            field=phonenumber_field.modelfields.PhoneNumberField(blank=True, max_length=32, region=None, verbose_name='phone'),
        ),
        migrations.AlterField(
            model_name='location',
            name='phone',
            field=phonenumber_field.modelfields.PhoneNumberField(max_length=32, region=None, verbose_name='phone'),
        ),
        migrations.AlterField(
            model_name='patient',
            name='phone',
            field=phonenumber_field.modelfields.PhoneNumberField(blank=True, max_length=32, region=None, verbose_name='phone'),
        ),
    ]
