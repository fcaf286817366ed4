"""Exclusion constraints: no physician, room or patient is ever booked twice at once (PostgreSQL).

On SQLite the booking services give the same guarantee by checking inside a serialized
(BEGIN IMMEDIATE) write transaction.
"""

from django.db import migrations

from clinic.roles import sync_role_groups

HOLDING = "('scheduled', 'confirmed', 'checked_in', 'in_procedure', 'in_recovery', 'completed')"
CONSTRAINTS = [
    ("appointment_physician_no_overlap", "physician_id", "procedure_start", "procedure_end"),
    ("appointment_room_no_overlap", "room_id", "room_start", "room_end"),
    ("appointment_patient_no_overlap", "patient_id", "arrival", "discharge"),
]


def add_exclusion_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, resource, start, end in CONSTRAINTS:
        schema_editor.execute(
            f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({resource} WITH =, tstzrange({start}, {end}, '[)') WITH &&) WHERE (status IN {HOLDING})"
        )


def drop_exclusion_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, *_ in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0001_initial"),
        ("clinic", "0002_role_groups"),
    ]

    operations = [
        migrations.RunPython(add_exclusion_constraints, drop_exclusion_constraints),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
