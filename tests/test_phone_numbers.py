"""Phone numbers: typed in any common style, stored in E.164, shown in the national format."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from clinic.models import Location, Patient
from clinic.phone_numbers import e164, national, to_e164_rows
from tests.test_settings import load_settings

conversion = importlib.import_module("clinic.migrations.0010_phone_numbers_e164")


@pytest.mark.parametrize(("typed", "stored"), [
    ("(918) 555-0111", "+19185550111"), ("918.555.0111", "+19185550111"), ("918-555-0111", "+19185550111"),
    ("+1 918 555 0111", "+19185550111"), ("1 (918) 555-0111", "+19185550111"), ("9185550111", "+19185550111"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_a_number_typed_in_any_common_style_reads_as_e164(typed, stored):
    assert e164(typed, region="US") == stored


@pytest.mark.parametrize("typed", ["555-0111", "12345", "call the daughter", "(918) 555-01", "+1 123 555 0111"])
def test_what_is_not_a_valid_number_reads_as_none(typed):
    assert e164(typed, region="US") is None


def test_numbers_are_shown_nationally_and_foreign_ones_with_their_country_code(settings):
    assert national("+19185550111") == "(918) 555-0111"
    assert national("+442079460958") == "+44 20 7946 0958"
    assert national("ask for Bob") == "ask for Bob"


def test_the_conversion_turns_old_numbers_into_e164_and_keeps_what_it_cannot_read():
    converted, left = to_e164_rows([(1, "(918) 555-0111"), (2, "+19185550112"), (3, ""), (4, "555-0199 ext 4"),
                                    (5, "918.555.0113")], region="US")
    assert converted == {1: "+19185550111", 5: "+19185550113"}  # 2 is already E.164
    assert left == [(4, "555-0199 ext 4")]


@pytest.mark.django_db
def test_the_migration_converts_stored_numbers_lists_the_unreadable_and_leaves_them(demo_clinic, capsys):
    patients = list(Patient.objects.order_by("pk")[:3])
    location = Location.objects.get()
    table = Patient._meta.db_table
    with connection.cursor() as cursor:  # as rows were before the migration: typed, not E.164
        for patient, typed in zip(patients, ["(918) 555-0161", "918.555.0162", "mom's cell"]):
            cursor.execute(f"UPDATE {table} SET phone = %s WHERE id = %s", [typed, patient.pk])
        cursor.execute(f"UPDATE {Location._meta.db_table} SET phone = %s WHERE id = %s",
                       ["(918) 555-0140", location.pk])
    conversion.numbers_to_e164(apps, None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, phone FROM {table} WHERE id IN (%s, %s, %s) ORDER BY id",
                       [patient.pk for patient in patients])
        stored = [phone for _, phone in cursor.fetchall()]
        cursor.execute(f"SELECT phone FROM {Location._meta.db_table}")
        assert cursor.fetchone()[0] == "+19185550140"
    assert stored == ["+19185550161", "+19185550162", "mom's cell"]
    printed = capsys.readouterr().out
    assert f"Patient {patients[2].pk}: \"mom's cell\"" in printed
    assert "1 phone number(s) could not be read" in printed


@pytest.mark.django_db
def test_phone_numbers_check_lists_the_numbers_to_correct(demo_clinic, capsys):
    call_command("phone_numbers_check")
    assert "Every stored phone number is a valid number" in capsys.readouterr().out
    patient = Patient.objects.order_by("pk").first()
    Patient.objects.filter(pk=patient.pk).update(phone="555-0199 ext 4")
    with pytest.raises(CommandError, match="1 phone number"):
        call_command("phone_numbers_check")
    listed = capsys.readouterr().out
    assert f"Patient {patient.pk}: '555-0199 ext 4'" in listed
    assert reverse("admin:clinic_patient_change", args=[patient.pk]) in listed


@pytest.mark.django_db
def test_a_patient_saved_with_a_local_number_is_stored_in_e164(demo_clinic):
    patient = Patient.objects.create(first_name="Ann", last_name="Lee", date_of_birth=dt.date(1950, 1, 1),
                                     phone="(918) 555-0177")
    assert Patient.objects.filter(pk=patient.pk).values_list("phone", flat=True).get() == "+19185550177"
    assert str(Patient.objects.get(pk=patient.pk).phone) == "(918) 555-0177"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["918.555.0177", "+1 918 555 0177", "(918) 555-0177", "9185550177"])
def test_the_api_takes_any_common_style_and_answers_in_the_national_format(desk, typed):
    response = desk.post("/api/v1/patients/", {"first_name": "Ruth", "last_name": "Okonkwo",
                                                "date_of_birth": "1948-02-03", "phone": typed}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "(918) 555-0177"
    assert Patient.objects.get(pk=response.json()["id"]).phone.as_e164 == "+19185550177"


@pytest.mark.django_db
def test_the_api_refuses_a_number_that_is_not_one(desk):
    response = desk.post("/api/v1/patients/", {"first_name": "Ruth", "last_name": "Okonkwo",
                                                "date_of_birth": "1948-02-03", "phone": "555-01"}, format="json")
    assert response.status_code == 400
    assert "valid phone number" in response.json()["errors"]["phone"][0]


@pytest.mark.django_db
def test_the_api_shows_the_clinics_phone_nationally(desk):
    assert desk.get("/api/v1/locations/").json()["results"][0]["phone"] == "(918) 555-0140"


def test_the_schema_describes_the_phone_format():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    phone = schema["components"]["schemas"]["Patient"]["properties"]["phone"]
    assert phone["type"] == "string" and "E.164" in phone["description"]


@pytest.mark.django_db
def test_the_admin_takes_a_number_in_any_style_and_shows_it_nationally(client, front_desk, calendar):
    client.force_login(front_desk)
    patient = calendar.patients[2]
    url = reverse("admin:clinic_patient_change", args=[patient.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "blood_thinners"}
    data.update({"phone": "918.555.0166", "preferred_channel": "sms", "language": "en", "date_of_birth":
                 patient.date_of_birth.isoformat(), "_continue": "1"})
    for prefix in ("procedures_elsewhere", "waitlist_entries"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    client.post(url, data)
    patient.refresh_from_db()
    assert patient.phone.as_e164 == "+19185550166"
    page = client.get(url).content.decode()
    assert 'value="(918) 555-0166"' in page


@pytest.mark.django_db
def test_the_front_desk_finds_a_patient_stored_in_e164_by_the_number_typed_locally(client, front_desk, calendar):
    patient = calendar.patients[4]
    patient.phone = "+19185550144"
    patient.save()
    client.force_login(front_desk)
    found = client.get(reverse("admin:clinic_patient_changelist"), {"q": "918.555.0144"}).context["cl"].result_list
    assert list(found) == [patient]
    assert list(Patient.objects.with_phone("(918) 555-0144")) == [patient]


def test_an_unknown_default_region_stops_start_up(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="PHONE_DEFAULT_REGION"):
        load_settings(monkeypatch, PHONE_DEFAULT_REGION="USA")
    assert load_settings(monkeypatch, PHONE_DEFAULT_REGION="ca")["PHONENUMBER_DEFAULT_REGION"] == "CA"


@pytest.mark.parametrize(("env", "named"), [
    ({"SMS_TRANSPORT": "twilio"}, "TWILIO_ACCOUNT_SID"),
    ({"SMS_TRANSPORT": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, "TWILIO_FROM"),
    ({"SMS_TRANSPORT": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t",
      "TWILIO_FROM": "(918) 555-0100"}, "TWILIO_FROM"),
    ({"TWILIO_API_BASE_URL": "127.0.0.1:8080"}, "TWILIO_API_BASE_URL"),
])
def test_incomplete_twilio_settings_stop_start_up(monkeypatch, env, named):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=named):
        load_settings(monkeypatch, **env)


@pytest.mark.parametrize(("language", "words"), [("en", "Enter a valid phone number, e.g. (918) 555-0140"),
                                                 ("es", "Escriba un número de teléfono válido")])
def test_the_booking_form_refuses_a_number_that_is_not_one_in_the_patients_words(language, words):
    from django.utils import translation

    from scheduling.pages.forms import DetailsForm

    with translation.override(language):
        form = DetailsForm({"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1950-01-01",
                            "phone": "555-01", "email": "ann@example.com"}, filled_in_by_a_person=lambda _: True)
        assert not form.is_valid()
        assert words in form.errors["phone"][0]


def test_the_text_forms_of_a_number_are_the_same_when_remembered(settings):
    from phonenumber_field.phonenumber import to_python

    from clinic.phone_numbers import as_written, for_sending

    stored = to_python("+19185550111")
    for _ in range(2):  # worked out, then remembered
        assert (as_written(stored), for_sending(stored)) == ("(918) 555-0111", "+19185550111")
        assert for_sending("(918) 555-0111") == "+19185550111"
        assert for_sending("not a number") == "not a number"
    settings.PHONE_DEFAULT_REGION = "GB"  # the same digits typed elsewhere are another number
    assert for_sending("020 7946 0018") == "+442079460018"


def test_a_number_on_record_counts_as_given_whether_or_not_it_is_valid():
    from phonenumber_field.phonenumber import to_python

    from clinic.phone_numbers import given

    assert given(to_python("+19185550111")) and given(to_python("555-01")) and given("918 555 0111")
    assert not given(None) and not given("")
