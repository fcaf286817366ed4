"""An index of each location's holding visits by their whole span (PostgreSQL).

A booking checks the visits that overlap its own span: at its location (rooms and recovery
bays), of its physician and of its patient. The physician's and the patient's are found through
the exclusion constraints' indexes (0002); this one finds the location's, so that the check reads
the few visits near the new one instead of every visit the location ever had. The span is the
hull of the visit's time in the room and its time at the clinic (arrival to discharge), which
overlap, so the hull is their union.
"""

from django.db import migrations

HOLDING = "('scheduled', 'confirmed', 'checked_in', 'in_procedure', 'in_recovery', 'completed')"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS appointment_location_span ON scheduling_appointment USING gist "
        "(location_id, tstzrange(LEAST(arrival, room_start), GREATEST(discharge, room_end), '[)')) "
        f"WHERE (status IN {HOLDING})"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS appointment_location_span")


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0021_reminder_sms_delivery"),
    ]

    operations = [
        migrations.RunPython(add_index, drop_index),
    ]
