"""An index of each location's holding visits by their whole span (PostgreSQL).

A booking checks the visits that overlap its own span: at its location (rooms and recovery
bays), of its physician and of its patient. The physician's and the patient's are found through
the exclusion constraints' indexes (0002); this one finds the location's, so that the check reads
the few visits near the new one instead of every visit the location ever had. The span is the
hull of the visit's time in the room and its time at the clinic (arrival to discharge), which
overlap, so the hull is their union. The statuses are those of HOLDING_STATUSES, as in 0002: the
index serves queries that name the same statuses.
"""

from django.db import migrations

HOLDING = "('scheduled', 'confirmed', 'checked_in', 'in_procedure', 'in_recovery', 'completed')"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Built beside the running clinic: bookings go on writing while it builds. A build that was
    # interrupted leaves an invalid index of this name, dropped first.
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appointment_location_span")
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY appointment_location_span ON scheduling_appointment USING gist "
        "(location_id, tstzrange(LEAST(arrival, room_start), GREATEST(discharge, room_end), '[)')) "
        f"WHERE (status IN {HOLDING})"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appointment_location_span")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("scheduling", "0021_reminder_sms_delivery"),
    ]

    operations = [
        migrations.RunPython(add_index, drop_index),
    ]
