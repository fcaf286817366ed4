"""`seed_demo`: the demo clinic of DESIGN.md, idempotent."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.management import call_command

from clinic.models import BloodThinner, Closure, Location, Patient, Physician, ProcedureType, Room, ScheduleBlock
from scheduling.models import CarePlanTemplateStep, PathwayRule, ReminderStep

pytestmark = pytest.mark.django_db

DESIGN_CODES = {
    "CONSULT_NEW", "FOLLOW_UP", "ESI_IL", "ESI_TF", "ESI_CAUDAL", "MBB_LUMBAR", "MBB_CERVICAL", "SYMPATHETIC_BLOCK",
    "RFA_LUMBAR", "RFA_CERVICAL", "SCS_TRIAL", "SCS_TRIAL_REMOVAL", "SCS_IMPLANT", "VERTEBROPLASTY", "KYPHOPLASTY",
}


def counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()
            if model._meta.app_label in {"clinic", "auth"}}


def test_running_seed_demo_twice_gives_the_same_counts(demo_clinic):
    call_command("seed_demo", "--no-activity", stdout=io.StringIO())
    after_first = counts()
    second = io.StringIO()
    call_command("seed_demo", "--no-activity", stdout=second)
    assert counts() == after_first
    assert "procedure types: 0 created, 15 already there" in second.getvalue()
    assert "patients: 0 created, 50 already there" in second.getvalue()


def test_seed_demo_creates_what_is_missing_and_says_so(demo_clinic):
    Patient.objects.filter(first_name="James").delete()
    output = io.StringIO()
    call_command("seed_demo", "--no-activity", stdout=output)
    assert "patients: 2 created, 48 already there" in output.getvalue()
    assert Patient.objects.filter(first_name="James").count() == 2


def test_the_demo_clinic_is_the_one_design_describes(demo_clinic):
    location = Location.objects.get()
    assert (location.city, location.time_zone) == ("Bartlesville", "America/Chicago")
    assert location.recovery_bays > 0
    assert set(ProcedureType.objects.values_list("code", flat=True)) == DESIGN_CODES
    assert Physician.objects.count() == 3
    assert ScheduleBlock.objects.filter(kind="procedures").exists()
    assert ScheduleBlock.objects.filter(kind="clinic").exists()
    assert 45 <= Patient.objects.count() <= 55
    rooms = {room.name: {c.code for c in room.capabilities.all()} for room in Room.objects.all()}
    assert sum("fluoroscopy" in caps and "sterile-or" not in caps for caps in rooms.values()) == 2
    assert sum({"fluoroscopy", "sterile-or"} <= caps for caps in rooms.values()) == 1
    assert sum(caps == {"ultrasound"} for caps in rooms.values()) == 1
    assert sum(caps == {"exam"} for caps in rooms.values()) == 3


def test_the_demo_catalog_carries_designs_figures(demo_clinic):
    esi = ProcedureType.objects.get(code="ESI_IL")
    assert (esi.prep_minutes, esi.procedure_minutes, esi.recovery_minutes) == (30, 20, 30)
    assert (esi.setup_minutes, esi.turnover_minutes, esi.bleeding_risk) == (5, 10, "intermediate")
    implant = ProcedureType.objects.get(code="SCS_IMPLANT")
    assert (implant.prep_minutes, implant.procedure_minutes, implant.recovery_minutes) == (90, 120, 90)
    assert {c.code for c in implant.required_capabilities.all()} == {"fluoroscopy", "sterile-or"}
    assert implant.fasting_hours == 6 and implant.driver_required
    sympathetic = ProcedureType.objects.get(code="SYMPATHETIC_BLOCK")
    assert {c.code for c in sympathetic.alternative_capabilities.all()} == {"fluoroscopy", "ultrasound"}
    assert set(ProcedureType.objects.filter(self_bookable=True).values_list("code", flat=True)) == {
        "CONSULT_NEW", "FOLLOW_UP"}
    assert not ProcedureType.objects.filter(self_bookable=False, requires_order=False).exists()


def test_the_demo_hold_table_matches_design(demo_clinic):
    table = {b.name: (b.hold_days_high, b.hold_days_intermediate, b.hold_days_low) for b in BloodThinner.objects.all()}
    assert table["Warfarin"] == (5, 5, 0)
    assert table["Clopidogrel"] == (7, 7, 0)
    assert table["Apixaban"] == (3, 3, 0)
    assert table["Dabigatran"] == (4, 4, 0)
    assert table["Aspirin (primary prevention)"] == (6, 0, 0)


def test_seed_demo_keeps_what_the_manager_edited(demo_clinic):
    ProcedureType.objects.filter(code="ESI_IL").update(procedure_minutes=25)
    call_command("seed_demo", "--no-activity", stdout=io.StringIO())
    assert ProcedureType.objects.get(code="ESI_IL").procedure_minutes == 25


def test_every_demo_row_passes_model_validation(demo_clinic):
    for model in (Location, Room, ProcedureType, BloodThinner, Physician, ScheduleBlock, Patient):
        for instance in model.objects.all():
            instance.full_clean()


def test_demo_logins_refuse_to_run_in_production(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("demo_logins", stdout=io.StringIO())


def test_demo_logins_let_each_role_sign_in(client, demo_clinic, settings):
    settings.DEBUG = True
    call_command("demo_logins", stdout=io.StringIO())
    for username in ("admin", "manager", "frontdesk", "nurse", "okafor"):
        assert client.login(username=username, password="interval-demo"), username


def test_seed_demo_neither_reverts_nor_duplicates_an_edited_schedule_block(demo_clinic):
    block = ScheduleBlock.objects.get(physician__user__username="okafor", weekday=0)
    block.start_time, block.end_time = dt.time(9), dt.time(14)
    block.save()
    before = ScheduleBlock.objects.count()
    call_command("seed_demo", "--no-activity", stdout=io.StringIO())
    assert ScheduleBlock.objects.count() == before
    monday = ScheduleBlock.objects.filter(physician__user__username="okafor", weekday=0)
    assert [(b.start_time, b.end_time) for b in monday] == [(dt.time(9), dt.time(14))]


def test_seed_demo_does_not_bring_back_a_schedule_block_the_manager_deleted(demo_clinic):
    ScheduleBlock.objects.filter(physician__user__username="reyes", weekday=4).delete()
    before = ScheduleBlock.objects.count()
    call_command("seed_demo", "--no-activity", stdout=io.StringIO())
    assert ScheduleBlock.objects.count() == before
    assert not ScheduleBlock.objects.filter(physician__user__username="reyes", weekday=4).exists()


def test_a_new_physician_of_the_demo_gets_the_whole_weekly_template(demo_clinic):
    Physician.objects.filter(user__username="nair").delete()
    output = io.StringIO()
    call_command("seed_demo", "--no-activity", stdout=output)
    assert ScheduleBlock.objects.filter(physician__user__username="nair").count() == 4
    assert "schedule blocks: 4 created, 8 already there" in output.getvalue()


def test_seed_demo_neither_reverts_nor_duplicates_an_edited_reminder_step(demo_clinic):
    step = ReminderStep.objects.get(procedure_type__code="ESI_IL", kind="confirmation_request")
    step.days, step.at_time = 3, dt.time(11)
    step.save()
    before = ReminderStep.objects.count()
    call_command("seed_demo", "--no-activity", stdout=io.StringIO())
    assert ReminderStep.objects.count() == before
    steps = ReminderStep.objects.filter(procedure_type__code="ESI_IL", kind="confirmation_request")
    assert [(s.days, s.at_time) for s in steps] == [(3, dt.time(11))]


def test_seed_demo_does_not_bring_back_a_reminder_step_or_rule_the_manager_deleted(demo_clinic):
    ReminderStep.objects.filter(procedure_type__code="ESI_IL", kind="check_in").delete()
    PathwayRule.objects.filter(procedure_type__code="RFA_LUMBAR", payer__name="Medicare").delete()
    call_command("seed_demo", "--no-activity", stdout=io.StringIO())
    assert not ReminderStep.objects.filter(procedure_type__code="ESI_IL", kind="check_in").exists()
    assert not PathwayRule.objects.filter(procedure_type__code="RFA_LUMBAR", payer__name="Medicare").exists()


def test_seed_demo_keeps_an_edited_pathway_rule_without_a_twin(demo_clinic):
    rule = PathwayRule.objects.get(procedure_type__code="ESI_IL", kind="min_interval")
    rule.min_interval_days = 21
    rule.save()
    before = PathwayRule.objects.count()
    call_command("seed_demo", "--no-activity", stdout=io.StringIO())
    assert PathwayRule.objects.count() == before
    assert PathwayRule.objects.get(procedure_type__code="ESI_IL", kind="min_interval").min_interval_days == 21


def test_the_demo_preparation_texts_do_not_repeat_the_fasting_and_driver_lines(demo_clinic):
    from scheduling.pathways.holds import preparation_lines

    sedated = ProcedureType.objects.filter(fasting_hours__gt=0, driver_required=True)
    assert sedated.exists()
    for procedure_type in ProcedureType.objects.all():
        text = " ".join(preparation_lines(procedure_type)).lower()
        assert text.count("solid food") <= 1 and text.count("adult must") <= 1, (procedure_type.code, text)
    assert all("clear liquids" in procedure_type.patient_preparation.lower() for procedure_type in sedated)


def test_the_demo_has_an_example_webhook_endpoint_that_posts_nowhere(demo_clinic):
    from scheduling.models import WebhookEndpoint

    (endpoint,) = WebhookEndpoint.objects.all()
    assert not endpoint.is_active and endpoint.url.startswith("https://") and not endpoint.may_receive_patient_data


def test_every_seeded_clinic_resource_starts_its_change_history(demo_clinic):
    """The admin's History shows where each seeded row came from, not "no change history"."""
    for model in (Location, Room, Physician, Closure, ScheduleBlock, ReminderStep, CarePlanTemplateStep):
        rows = model.objects.count()
        assert rows and model.history.values("id").distinct().count() == rows, model.__name__


def test_the_shell_imports_every_model_and_names_no_failed_import(capsys):
    call_command("shell", command="print(Appointment.__name__, Patient.__name__)", verbosity=1)
    printed = capsys.readouterr().out
    assert "could not be automatically imported" not in printed
    assert printed == "Appointment Patient\n"  # only the command's own output


def test_the_shell_lists_its_imports_when_asked(capsys):
    call_command("shell", command="pass", verbosity=2)
    assert "imported automatically" in capsys.readouterr().out
