from clinic.models.access import AppendOnly, PatientAccess
from clinic.models.catalog import (
    BleedingRisk,
    BloodThinner,
    ProcedureFamily,
    ProcedureType,
    ScheduleKind,
    Sedation,
)
from clinic.models.locations import Capability, Closure, Location, Room, RoomKind, RoomOutOfService
from clinic.models.patients import Channel, Patient, Payer, PayerKind
from clinic.models.physicians import Physician, ScheduleBlock, TimeOff

__all__ = [
    "AppendOnly",
    "PatientAccess",
    "BleedingRisk",
    "BloodThinner",
    "Capability",
    "Channel",
    "Closure",
    "Location",
    "Patient",
    "Payer",
    "PayerKind",
    "Physician",
    "ProcedureFamily",
    "ProcedureType",
    "Room",
    "RoomKind",
    "RoomOutOfService",
    "ScheduleBlock",
    "ScheduleKind",
    "Sedation",
    "TimeOff",
]
