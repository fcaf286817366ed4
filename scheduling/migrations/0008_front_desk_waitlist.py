from django.db import migrations

from clinic.roles import sync_role_groups


class Migration(migrations.Migration):
    """The front desk and the clinic manager put callers on the waitlist from the admin."""

    dependencies = [
        ('scheduling', '0007_order_booking_link_messages'),
    ]

    operations = [
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
