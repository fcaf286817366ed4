"""The SQL audit after the load: no physician, room or patient is ever held twice at once,
and recovery never holds more patients than the location has bays."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

# Pairs of appointments that hold the same resource over overlapping half-open ranges.
OVERLAPS_SQL = """
SELECT count(*) FROM scheduling_appointment a
  JOIN scheduling_appointment b ON a.id < b.id AND a.{resource} = b.{resource}
   AND tstzrange(a.{start}, a.{end}, '[)') && tstzrange(b.{start}, b.{end}, '[)')
 WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
"""
RESOURCES = [
    ("physician", "physician_id", "procedure_start", "procedure_end"),
    ("room", "room_id", "room_start", "room_end"),
    ("patient", "patient_id", "arrival", "discharge"),
]

# Patients in recovery at each instant (a running sum over arrivals and departures; at one
# instant departures count first, the ranges being half-open), against the location's bays.
RECOVERY_SQL = """
SELECT coalesce(max(in_recovery - l.recovery_bays), 0) FROM (
    SELECT location_id, sum(change) OVER (PARTITION BY location_id ORDER BY instant, change
                                          ROWS UNBOUNDED PRECEDING) AS in_recovery
      FROM (SELECT location_id, procedure_end AS instant, 1 AS change FROM scheduling_appointment
             WHERE status NOT IN ('cancelled', 'no_show') AND discharge > procedure_end
            UNION ALL
            SELECT location_id, discharge, -1 FROM scheduling_appointment
             WHERE status NOT IN ('cancelled', 'no_show') AND discharge > procedure_end) changes
) running JOIN clinic_location l ON l.id = running.location_id
"""


@dataclass(frozen=True)
class Audit:
    overlaps: dict[str, int]
    recovery_over_capacity: int
    appointments: int

    @property
    def overlap_count(self) -> int:
        return sum(self.overlaps.values())


def audit() -> Audit:
    overlaps = {}
    with connection.cursor() as cursor:
        for label, resource, start, end in RESOURCES:
            cursor.execute(OVERLAPS_SQL.format(resource=resource, start=start, end=end))
            overlaps[label] = cursor.fetchone()[0]
        cursor.execute(RECOVERY_SQL)
        over = max(cursor.fetchone()[0], 0)
        cursor.execute("SELECT count(*) FROM scheduling_appointment WHERE status NOT IN ('cancelled', 'no_show')")
        appointments = cursor.fetchone()[0]
    return Audit(overlaps=overlaps, recovery_over_capacity=over, appointments=appointments)
