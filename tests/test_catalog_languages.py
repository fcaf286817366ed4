"""The catalog's texts in each language: the upgrade that split them, and the admin's fields."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clinic.models import BloodThinner, Location, ProcedureType

pytestmark = pytest.mark.django_db

migration = importlib.import_module("clinic.migrations.0012_catalog_texts_in_each_language")


def _columns(table: str, columns: str, where: str = "") -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} {where} ORDER BY id")
        return cursor.fetchall()


def test_the_upgrade_keeps_each_text_as_the_english_one_and_translates_only_the_defaults(demo_clinic):
    # The rows as they were before: one column for each text; this location keeps the default
    # "what to bring" and wrote its own late-cancellation note.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_proceduretype SET name_en = NULL, name_es = NULL, "
                       "patient_preparation_en = NULL, patient_preparation_es = NULL")
        cursor.execute("UPDATE clinic_bloodthinner SET restart_guidance_en = NULL, restart_guidance_es = NULL")
        cursor.execute("UPDATE clinic_location SET what_to_bring = %s, late_cancellation_note = %s, "
                       "what_to_bring_en = NULL, what_to_bring_es = NULL, late_cancellation_note_en = NULL, "
                       "late_cancellation_note_es = NULL", [migration.WHAT_TO_BRING, "Call us to cancel."])
    state = MigrationExecutor(connection).loader.project_state(("clinic", migration.__name__.rpartition(".")[2]))
    migration.texts_in_each_language(state.apps, None)

    for name, name_en, name_es, preparation, preparation_en, preparation_es in _columns(
            "clinic_proceduretype", "name, name_en, name_es, patient_preparation, patient_preparation_en, "
            "patient_preparation_es"):
        assert (name_en, name_es, preparation_en, preparation_es) == (name, None, preparation, "")
    assert all(en == text and es == "" for text, en, es in _columns(
        "clinic_bloodthinner", "restart_guidance, restart_guidance_en, restart_guidance_es"))
    ((bring_en, bring_es, note_en, note_es),) = _columns(
        "clinic_location", "what_to_bring_en, what_to_bring_es, late_cancellation_note_en, late_cancellation_note_es")
    assert bring_en == migration.WHAT_TO_BRING and bring_es.startswith("Su identificación con foto")
    assert (note_en, note_es) == ("Call us to cancel.", "")  # its own words wait for their Spanish

    # What is not translated reads as the English text on a Spanish page.
    from django.utils import translation
    with translation.override("es"):
        location = Location.objects.get()
        assert location.what_to_bring.startswith("Su identificación") and location.late_cancellation_note == (
            "Call us to cancel.")
        assert ProcedureType.objects.get(code="ESI_IL").name == "Interlaminar epidural steroid injection"


def test_the_manager_edits_each_language_in_the_admin_and_the_history_keeps_the_change(client, manager, demo_clinic):
    drug = BloodThinner.objects.get(name="Warfarin")
    client.force_login(manager)
    page = client.get(f"/admin/clinic/bloodthinner/{drug.pk}/change/").content.decode()
    assert 'name="restart_guidance_en"' in page and 'name="restart_guidance_es"' in page
    response = client.post(f"/admin/clinic/bloodthinner/{drug.pk}/change/", {
        "name": drug.name, "hold_days_high": 5, "hold_days_intermediate": 5, "hold_days_low": 0,
        "restart_guidance_en": "Restart the next morning.", "restart_guidance_es": "Vuelva a tomarlo a la mañana siguiente."})
    assert response.status_code == 302, response.context["adminform"].form.errors
    drug.refresh_from_db()
    assert (drug.restart_guidance_en, drug.restart_guidance_es) == (
        "Restart the next morning.", "Vuelva a tomarlo a la mañana siguiente.")
    assert drug.history.first().restart_guidance == "Restart the next morning."
