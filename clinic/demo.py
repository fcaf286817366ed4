"""The demo clinic of DESIGN.md: Bartlesville, OK, with its whole catalog.

`seed_demo_clinic` is idempotent: it creates what is missing and never changes or duplicates
what exists, so running it twice leaves the same rows and what the clinic manager has since
edited in the admin is kept. "Missing" is decided by a stable key that no edit in the admin
changes:

- a row with a natural key (a procedure code, a room's or drug's name, a patient's name and
  date of birth, a username) is missing when no row has that key;
- a row without one belongs to its owner, and the owner's set is missing as a whole: a
  physician's weekly schedule blocks when the physician has none, a location's holidays when
  the location is new. A block's own fields (weekday, times) are what the manager edits, so
  they cannot be its key: keyed by them, an edited block came back beside the edited one.
  A block the manager deleted is not recreated either, while the physician has others.

All people are fictitious; phone numbers are in the 555-01xx range.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from clinic import roles
from clinic.models import (
    BleedingRisk,
    BloodThinner,
    Closure,
    Capability,
    Channel,
    Location,
    Patient,
    Payer,
    PayerKind,
    Physician,
    ProcedureFamily,
    ProcedureType,
    Room,
    RoomKind,
    ScheduleBlock,
    ScheduleKind,
    Sedation,
)

CAPABILITIES = {
    "fluoroscopy": "Fluoroscopy (C-arm)",
    "ultrasound": "Ultrasound",
    "ct": "CT",
    "sterile-or": "Sterile OR",
    "exam": "Exam",
}

ROOMS = [
    ("Fluoro Suite 1", RoomKind.PROCEDURE_SUITE, ["fluoroscopy"]),
    ("Fluoro Suite 2", RoomKind.PROCEDURE_SUITE, ["fluoroscopy"]),
    ("OR 1", RoomKind.OPERATING_ROOM, ["fluoroscopy", "sterile-or"]),
    ("Ultrasound Room", RoomKind.PROCEDURE_SUITE, ["ultrasound"]),
    ("Exam 1", RoomKind.EXAM_ROOM, ["exam"]),
    ("Exam 2", RoomKind.EXAM_ROOM, ["exam"]),
    ("Exam 3", RoomKind.EXAM_ROOM, ["exam"]),
]

# What every visit needs (ID, insurance card, medicines, outside imaging) is the location's
# "what to bring"; these say what is particular to the visit.
_WEAR = "Wear loose, comfortable clothing and leave jewelry at home."
_INJECTION = f"{_WEAR} You may eat a light meal. Plan to spend about 90 minutes with us."
# The fasting and the driver are said from fasting_hours and driver_required (preparation_lines):
# this adds only what those do not say.
_SEDATED = (
    f"{_WEAR} Clear liquids are fine until 2 hours before your arrival. "
    "A taxi or rideshare on your own is not enough."
)
# The arrival time, which leaves room for the forms, is said beside these from prep_minutes.
_CONSULTATION = ("Coming at the arrival time given leaves time to fill in your forms. It helps to write down where "
                 "your pain is, how long you have had it, and the treatments you have tried.")
_FOLLOW_UP = ("It helps to note how your pain has been since your last visit, how much the last treatment helped "
              "and for how long.")


@dataclass(frozen=True)
class CatalogEntry:
    code: str
    name: str
    family: str
    prep: int
    procedure: int
    recovery: int
    setup: int
    turnover: int
    sedation: str
    bleeding_risk: str
    needs_all: tuple[str, ...] = ()
    needs_one_of: tuple[str, ...] = ()
    schedule_kind: str = ScheduleKind.PROCEDURES
    self_bookable: bool = False
    prior_authorization: bool = True
    preparation: str = _INJECTION


CATALOG = [
    CatalogEntry("CONSULT_NEW", "New patient consultation", ProcedureFamily.OFFICE_VISIT, 15, 45, 0, 0, 0,
                 Sedation.NONE, BleedingRisk.NONE, ("exam",), schedule_kind=ScheduleKind.CLINIC, self_bookable=True,
                 prior_authorization=False, preparation=_CONSULTATION),
    CatalogEntry("FOLLOW_UP", "Follow-up visit", ProcedureFamily.OFFICE_VISIT, 10, 20, 0, 0, 0,
                 Sedation.NONE, BleedingRisk.NONE, ("exam",), schedule_kind=ScheduleKind.CLINIC, self_bookable=True,
                 prior_authorization=False, preparation=_FOLLOW_UP),
    CatalogEntry("ESI_IL", "Interlaminar epidural steroid injection", ProcedureFamily.EPIDURAL, 30, 20, 30, 5, 10,
                 Sedation.NONE, BleedingRisk.INTERMEDIATE, ("fluoroscopy",)),
    CatalogEntry("ESI_TF", "Transforaminal epidural steroid injection", ProcedureFamily.EPIDURAL, 30, 20, 30, 5, 10,
                 Sedation.NONE, BleedingRisk.INTERMEDIATE, ("fluoroscopy",)),
    CatalogEntry("ESI_CAUDAL", "Caudal epidural steroid injection", ProcedureFamily.EPIDURAL, 30, 20, 30, 5, 10,
                 Sedation.NONE, BleedingRisk.INTERMEDIATE, ("fluoroscopy",)),
    CatalogEntry("MBB_LUMBAR", "Lumbar medial branch block (diagnostic)", ProcedureFamily.DIAGNOSTIC_BLOCK,
                 30, 20, 30, 5, 10, Sedation.NONE, BleedingRisk.LOW, ("fluoroscopy",), prior_authorization=False,
                 preparation=_INJECTION + " Bring your pain diary: you will record your relief every hour for 6 hours."),
    CatalogEntry("MBB_CERVICAL", "Cervical medial branch block (diagnostic)", ProcedureFamily.DIAGNOSTIC_BLOCK,
                 30, 20, 30, 5, 10, Sedation.NONE, BleedingRisk.INTERMEDIATE, ("fluoroscopy",),
                 prior_authorization=False,
                 preparation=_INJECTION + " Bring your pain diary: you will record your relief every hour for 6 hours."),
    CatalogEntry("SYMPATHETIC_BLOCK", "Sympathetic nerve block", ProcedureFamily.SYMPATHETIC_BLOCK, 30, 20, 30, 5, 10,
                 Sedation.MODERATE, BleedingRisk.INTERMEDIATE, needs_one_of=("fluoroscopy", "ultrasound"),
                 preparation=_SEDATED),
    CatalogEntry("RFA_LUMBAR", "Lumbar radiofrequency ablation", ProcedureFamily.RADIOFREQUENCY_ABLATION,
                 45, 45, 30, 5, 10, Sedation.MODERATE, BleedingRisk.LOW, ("fluoroscopy",), preparation=_SEDATED),
    CatalogEntry("RFA_CERVICAL", "Cervical radiofrequency ablation", ProcedureFamily.RADIOFREQUENCY_ABLATION,
                 45, 45, 30, 5, 10, Sedation.MODERATE, BleedingRisk.INTERMEDIATE, ("fluoroscopy",),
                 preparation=_SEDATED),
    CatalogEntry("SCS_TRIAL", "Spinal cord stimulator trial", ProcedureFamily.SCS, 60, 60, 60, 5, 15,
                 Sedation.MODERATE, BleedingRisk.HIGH, ("fluoroscopy", "sterile-or"),
                 preparation=_SEDATED + " Shower the morning of the trial; keep the dressing dry until the leads come out."),
    CatalogEntry("SCS_TRIAL_REMOVAL", "SCS trial lead removal", ProcedureFamily.SCS, 10, 15, 0, 0, 5,
                 Sedation.NONE, BleedingRisk.NONE, ("exam",), prior_authorization=False, preparation="Wear loose clothing; bring your trial diary and the stimulator remote."),
    CatalogEntry("SCS_IMPLANT", "Spinal cord stimulator implant", ProcedureFamily.SCS, 90, 120, 90, 10, 20,
                 Sedation.GENERAL, BleedingRisk.HIGH, ("fluoroscopy", "sterile-or"), preparation=_SEDATED),
    CatalogEntry("VERTEBROPLASTY", "Vertebroplasty", ProcedureFamily.VERTEBRAL_AUGMENTATION, 60, 60, 60, 5, 15,
                 Sedation.MODERATE, BleedingRisk.HIGH, ("fluoroscopy",), preparation=_SEDATED),
    CatalogEntry("KYPHOPLASTY", "Kyphoplasty", ProcedureFamily.VERTEBRAL_AUGMENTATION, 60, 60, 60, 5, 15,
                 Sedation.MODERATE, BleedingRisk.HIGH, ("fluoroscopy", "sterile-or"), preparation=_SEDATED),
]

# The catalog's texts in Spanish, for patients who read the pages in Spanish (clinic/translation.py).
_WEAR_ES = "Use ropa holgada y cómoda, y deje las joyas en casa."
_INJECTION_ES = f"{_WEAR_ES} Puede comer algo ligero. Cuente con pasar unos 90 minutos con nosotros."
_SEDATED_ES = (f"{_WEAR_ES} Puede tomar líquidos claros hasta 2 horas antes de su llegada. "
               "No basta con irse solo en taxi o en un servicio de transporte.")
_DIARY_ES = " Traiga su diario del dolor: anotará su alivio cada hora durante 6 horas."
SPANISH = {  # code: (name, preparation)
    "CONSULT_NEW": ("Consulta de paciente nuevo",
                    "Llegar a la hora indicada le da tiempo para llenar sus formularios. Le ayudará anotar dónde "
                    "le duele, desde cuándo y qué tratamientos ha probado."),
    "FOLLOW_UP": ("Visita de seguimiento",
                  "Le ayudará anotar cómo ha estado su dolor desde su última visita, cuánto le ayudó el último "
                  "tratamiento y por cuánto tiempo."),
    "ESI_IL": ("Inyección epidural de esteroides interlaminar", _INJECTION_ES),
    "ESI_TF": ("Inyección epidural de esteroides transforaminal", _INJECTION_ES),
    "ESI_CAUDAL": ("Inyección epidural de esteroides caudal", _INJECTION_ES),
    "MBB_LUMBAR": ("Bloqueo del ramo medial lumbar (diagnóstico)", _INJECTION_ES + _DIARY_ES),
    "MBB_CERVICAL": ("Bloqueo del ramo medial cervical (diagnóstico)", _INJECTION_ES + _DIARY_ES),
    "SYMPATHETIC_BLOCK": ("Bloqueo nervioso simpático", _SEDATED_ES),
    "RFA_LUMBAR": ("Ablación por radiofrecuencia lumbar", _SEDATED_ES),
    "RFA_CERVICAL": ("Ablación por radiofrecuencia cervical", _SEDATED_ES),
    "SCS_TRIAL": ("Prueba de estimulador de la médula espinal",
                  _SEDATED_ES + " Dúchese la mañana de la prueba; mantenga el vendaje seco hasta que le retiren "
                  "los electrodos."),
    "SCS_TRIAL_REMOVAL": ("Retiro de los electrodos de prueba",
                          "Use ropa holgada; traiga el diario de su prueba y el control remoto del estimulador."),
    "SCS_IMPLANT": ("Implante de estimulador de la médula espinal", _SEDATED_ES),
    "VERTEBROPLASTY": ("Vertebroplastia", _SEDATED_ES),
    "KYPHOPLASTY": ("Cifoplastia", _SEDATED_ES),
}
# Days without a dose (high, intermediate, low bleeding risk): ASRA Pain Medicine 2018.
_RESTART = "Restart the day after your procedure unless your physician tells you otherwise."
BLOOD_THINNERS = [
    ("Warfarin", 5, 5, 0, _RESTART),
    ("Clopidogrel", 7, 7, 0, _RESTART),
    ("Prasugrel", 7, 7, 0, _RESTART),
    ("Ticagrelor", 5, 5, 0, _RESTART),
    ("Apixaban", 3, 3, 0, _RESTART),
    ("Rivaroxaban", 3, 3, 0, _RESTART),
    ("Edoxaban", 3, 3, 0, _RESTART),
    ("Dabigatran", 4, 4, 0, _RESTART),
    ("Aspirin (primary prevention)", 6, 0, 0, "Restart the day after your procedure."),
]
RESTART_SPANISH = {
    _RESTART: "Vuelva a tomarlo el día después de su procedimiento, salvo que su médico le indique otra cosa.",
    "Restart the day after your procedure.": "Vuelva a tomarla el día después de su procedimiento.",
}

# (name, kind, requires prior authorization for the procedures marked as needing it)
PAYERS = [
    ("Medicare", PayerKind.MEDICARE, False),
    ("Prairie Mutual Health", PayerKind.COMMERCIAL, True),
    ("Self-pay", PayerKind.SELF_PAY, False),
]

_ALL_PROCEDURES = [entry.code for entry in CATALOG]
_OFFICE = ["CONSULT_NEW", "FOLLOW_UP", "SCS_TRIAL_REMOVAL"]
_SPINE = ["ESI_IL", "ESI_TF", "ESI_CAUDAL", "MBB_LUMBAR", "MBB_CERVICAL", "RFA_LUMBAR", "RFA_CERVICAL"]

# (username, first, last, NPI, credentialed codes, weekly blocks: (weekday, start, end, kind))
PHYSICIANS = [
    ("okafor", "Maya", "Okafor", "1000000004", _ALL_PROCEDURES,
     [(0, "07:30", "15:30", ScheduleKind.PROCEDURES), (1, "08:00", "16:00", ScheduleKind.CLINIC),
      (2, "07:30", "15:30", ScheduleKind.PROCEDURES), (3, "08:00", "12:00", ScheduleKind.CLINIC)]),
    ("reyes", "Daniel", "Reyes", "1000000012", _OFFICE + _SPINE + ["SYMPATHETIC_BLOCK"],
     [(0, "08:00", "16:00", ScheduleKind.CLINIC), (1, "07:30", "15:30", ScheduleKind.PROCEDURES),
      (3, "07:30", "15:30", ScheduleKind.PROCEDURES), (4, "08:00", "12:00", ScheduleKind.CLINIC)]),
    ("nair", "Priya", "Nair", "1000000020", _OFFICE + _SPINE + ["VERTEBROPLASTY", "KYPHOPLASTY"],
     [(1, "08:00", "12:00", ScheduleKind.CLINIC), (2, "08:00", "16:00", ScheduleKind.CLINIC),
      (3, "07:30", "15:30", ScheduleKind.PROCEDURES), (4, "07:30", "15:30", ScheduleKind.PROCEDURES)]),
]

_FIRST_NAMES = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
                "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Karen", "Charles", "Sarah",
                "Carlos", "Maria", "Luis", "Rosa", "Wilma", "Earl", "Doris", "Harold", "Gloria", "Ray"]
_LAST_NAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
               "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
               "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson"]
PATIENT_COUNT = 50
HISTORY_WEEKS = 12  # how far back the physicians' weekly templates start


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    procedure_types: dict = field(default_factory=dict)
    payers: dict = field(default_factory=dict)

    def record(self, label: str, created: bool, count: int = 1) -> None:
        (self.created if created else self.updated)[label] += count

    def lines(self) -> list[str]:
        labels = list(dict.fromkeys([*self.created, *self.updated]))
        return [f"{label}: {self.created[label]} created, {self.updated[label]} already there" for label in labels]


def _time(value: str) -> datetime.time:
    return datetime.time.fromisoformat(value)


def _monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


# The clinic is closed on these days (US federal holidays in the demo's weeks).
HOLIDAYS = [
    (datetime.date(2026, 11, 26), "Thanksgiving Day"),
    (datetime.date(2026, 12, 25), "Christmas Day"),
    (datetime.date(2027, 1, 1), "New Year's Day"),
    (datetime.date(2027, 1, 18), "Martin Luther King Jr. Day"),
    (datetime.date(2027, 2, 15), "Presidents' Day"),
]


@transaction.atomic
def _translate(row, **spanish: str) -> None:
    """Give a catalog row the Spanish texts it lacks (a translation the manager wrote is kept)."""
    missing = {f"{name}_es": text for name, text in spanish.items() if not getattr(row, f"{name}_es")}
    if missing:
        for name, text in missing.items():
            setattr(row, name, text)
        row.save(update_fields=list(missing))


def seed_demo_clinic(*, today: datetime.date) -> SeedReport:
    """Create what is missing of the demo clinic. Safe to run any number of times."""
    report = SeedReport()
    roles.sync_role_groups(django_apps)  # the staff roles, even on a database emptied by `flush`

    capabilities = {}
    for code, name in CAPABILITIES.items():
        capabilities[code], created = Capability.objects.get_or_create(code=code, defaults={"name": name})
        report.record("capabilities", created)

    location, created = Location.objects.get_or_create(
        name="Interval Pain Center Bartlesville",
        defaults={
            "time_zone": "America/Chicago",
            "address_line": "4100 SE Adams Rd, Suite 200",
            "city": "Bartlesville",
            "state": "OK",
            "postal_code": "74006",
            "phone": "(918) 555-0140",
            "recovery_bays": 4,
        },
    )
    report.record("locations", created)
    if created:  # later runs keep what the manager changed
        bulk_create_with_history([Closure(location=location, first_day=day, last_day=day, reason=reason)
                                  for day, reason in HOLIDAYS], Closure)

    for name, kind, needs in ROOMS:
        room, created = Room.objects.get_or_create(location=location, name=name, defaults={"kind": kind})
        if created:
            room.capabilities.set([capabilities[code] for code in needs])
        report.record("rooms", created)

    procedure_types = {}
    for entry in CATALOG:
        sedated = entry.sedation != Sedation.NONE
        procedure_type, created = ProcedureType.objects.get_or_create(
            code=entry.code,
            defaults={
                "name": entry.name,
                "family": entry.family,
                "schedule_kind": entry.schedule_kind,
                "prep_minutes": entry.prep,
                "procedure_minutes": entry.procedure,
                "recovery_minutes": entry.recovery,
                "setup_minutes": entry.setup,
                "turnover_minutes": entry.turnover,
                "sedation": entry.sedation,
                "fasting_hours": 6 if sedated else 0,
                "driver_required": sedated,
                "bleeding_risk": entry.bleeding_risk,
                "self_bookable": entry.self_bookable,
                "requires_order": not entry.self_bookable,
                "prior_authorization_required": entry.prior_authorization,
                "patient_preparation": entry.preparation,
                "requires_psych_evaluation": entry.code == "SCS_TRIAL",
                "requires_fracture_imaging": entry.family == ProcedureFamily.VERTEBRAL_AUGMENTATION,
            },
        )
        if created:
            procedure_type.required_capabilities.set([capabilities[code] for code in entry.needs_all])
            procedure_type.alternative_capabilities.set([capabilities[code] for code in entry.needs_one_of])
        _translate(procedure_type, name=SPANISH[entry.code][0], patient_preparation=SPANISH[entry.code][1])
        procedure_types[entry.code] = procedure_type
        report.record("procedure types", created)

    # The SCS trial books its lead removal 7 days later (trials last 3-8 days: CMS LCD).
    trial = procedure_types["SCS_TRIAL"]
    if trial.follow_up_type_id is None:
        trial.follow_up_type, trial.follow_up_days = procedure_types["SCS_TRIAL_REMOVAL"], 7
        trial.save(update_fields=["follow_up_type", "follow_up_days"])

    blood_thinners = []
    for name, high, intermediate, low, restart in BLOOD_THINNERS:
        blood_thinner, created = BloodThinner.objects.get_or_create(
            name=name,
            defaults={
                "hold_days_high": high,
                "hold_days_intermediate": intermediate,
                "hold_days_low": low,
                "restart_guidance": restart,
            },
        )
        _translate(blood_thinner, restart_guidance=RESTART_SPANISH[restart])
        blood_thinners.append(blood_thinner)
        report.record("blood thinners", created)

    payers = []
    for name, kind, requires_authorization in PAYERS:
        payer, created = Payer.objects.get_or_create(
            name=name, defaults={"kind": kind, "requires_prior_authorization": requires_authorization})
        payers.append(payer)
        report.record("payers", created)

    _seed_physicians(location, procedure_types, today, report)
    _seed_patients(payers, blood_thinners, report)
    report.procedure_types = procedure_types
    report.payers = {payer.name: payer for payer in payers}
    return report


def _seed_physicians(location, procedure_types, today, report: SeedReport) -> None:
    User = get_user_model()
    physician_group = Group.objects.get(name=roles.PHYSICIAN)
    # The template has held for a while: the demo's past visits (scheduling.demo_activity)
    # were booked in it.
    valid_from = _monday_of(today) - datetime.timedelta(weeks=HISTORY_WEEKS)
    for username, first, last, npi, codes, blocks in PHYSICIANS:
        user, user_created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@interval.example", "is_staff": True},
        )
        if user_created:
            user.set_unusable_password()  # `demo_logins` gives demo passwords, in development only
            user.save(update_fields=["password"])
        user.groups.add(physician_group)
        physician, created = Physician.objects.get_or_create(user=user, defaults={"npi": npi})
        if created:
            physician.procedure_types.set([procedure_types[code] for code in codes])
        report.record("physicians", created)
        if ScheduleBlock.objects.filter(physician=physician).exists():
            # The weekly template is the manager's once it exists: edited, added or deleted
            # blocks all stay as they are (see the module's docstring).
            report.record("schedule blocks", False, count=len(blocks))
            continue
        bulk_create_with_history([
            ScheduleBlock(physician=physician, location=location, weekday=weekday, start_time=_time(start),
                          end_time=_time(end), kind=kind, valid_from=valid_from)
            for weekday, start, end, kind in blocks], ScheduleBlock)
        report.record("schedule blocks", True, count=len(blocks))


def _seed_patients(payers, blood_thinners, report: SeedReport) -> None:
    rng = random.Random(20261101)  # fixed seed: the same 50 patients on every run
    for index in range(PATIENT_COUNT):
        first = _FIRST_NAMES[index % len(_FIRST_NAMES)]
        last = _LAST_NAMES[(index * 7) % len(_LAST_NAMES)]
        born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 55))
        prefers_sms = rng.random() < 0.5
        patient, created = Patient.objects.get_or_create(
            first_name=first,
            last_name=last,
            date_of_birth=born,
            defaults={
                "email": f"{first}.{last}.{index}@example.com".lower(),
                "phone": f"(918) 555-{150 + index:04d}",  # 555-0150 to 0199: fictional, not the clinic's
                "preferred_channel": Channel.SMS if prefers_sms else Channel.EMAIL,
                "sms_consent": prefers_sms,
                "email_consent": True,
                "payer": payers[index % len(payers)],
            },
        )
        takes = rng.random() < 0.3
        drug = rng.choice(blood_thinners)  # drawn on every run so the sequence stays the same
        if created and takes:
            patient.blood_thinners.set([drug])
        report.record("patients", created)
