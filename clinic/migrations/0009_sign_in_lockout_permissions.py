from django.db import migrations

from clinic.roles import sync_role_groups


class Migration(migrations.Migration):
    """Clinic managers see failed sign-ins and unlock a locked-out colleague."""

    dependencies = [
        ("clinic", "0008_resource_history"),
        ("scheduling", "0009_clinic_moved_notice"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
