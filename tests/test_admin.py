"""The staff admin: every page renders, and each role sees and changes exactly what it may."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from clinic import roles
from clinic.models import BloodThinner, Location, Patient, Physician, ProcedureType, ScheduleBlock
from tests.conftest import PATIENT_PAGE_INLINES

pytestmark = pytest.mark.django_db

CLINIC_MODELS = [model for model in admin.site._registry if model._meta.app_label == "clinic"]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_list_add_and_change_page_renders_for_a_superuser(client, rf, superuser, demo_clinic, model):
    client.force_login(superuser)
    assert client.get(admin_url(model, "changelist")).status_code == 200
    request = rf.get("/")
    request.user = superuser
    addable = admin.site._registry[model].has_add_permission(request)  # reminders are never typed in
    assert client.get(admin_url(model, "add")).status_code == (200 if addable else 403)
    instance = model._default_manager.first()
    if instance is not None:
        assert client.get(admin_url(model, "change", instance.pk)).status_code == 200


def test_the_list_pages_search_and_filter(client, superuser, demo_clinic):
    client.force_login(superuser)
    response = client.get(admin_url(ProcedureType, "changelist"), {"q": "ESI_TF"})
    assert response.context["cl"].result_count == 1
    response = client.get(admin_url(ProcedureType, "changelist"), {"self_bookable__exact": "1"})
    assert {p.code for p in response.context["cl"].result_list} == {"CONSULT_NEW", "FOLLOW_UP"}
    response = client.get(admin_url(Patient, "changelist"), {"q": "Smith"})
    assert response.context["cl"].result_count >= 1


def _allowed(role: str, action: str, model) -> bool:
    return f"clinic.{action}_{model._meta.model_name}" in roles.ROLE_PERMISSIONS[role]


@pytest.mark.parametrize("role_fixture", ["front_desk", "nurse", "physician_user", "manager"])
def test_each_role_sees_exactly_the_pages_its_work_needs(client, demo_clinic, request, role_fixture):
    user = request.getfixturevalue(role_fixture)
    role = user.groups.get().name
    client.force_login(user)
    for model in CLINIC_MODELS:
        can_view = _allowed(role, "view", model) or _allowed(role, "change", model)
        expected_list = 200 if can_view else 403
        assert client.get(admin_url(model, "changelist")).status_code == expected_list, (role, model)
        expected_add = 200 if _allowed(role, "add", model) else 403
        assert client.get(admin_url(model, "add")).status_code == expected_add, (role, model)
    listed = {
        entry["object_name"].lower()
        for app in client.get(reverse("admin:index")).context["app_list"]
        if app["app_label"] == "clinic"
        for entry in app["models"]
    }
    assert listed == {model._meta.model_name for model in CLINIC_MODELS
                      if _allowed(role, "view", model) or _allowed(role, "change", model)}


def _procedure_form(procedure_type: ProcedureType, **changes) -> dict:
    data = {
        "code": procedure_type.code, "name_en": procedure_type.name_en, "name_es": procedure_type.name_es or "",
        "family": procedure_type.family,
        "schedule_kind": procedure_type.schedule_kind, "is_active": "on",
        "prep_minutes": procedure_type.prep_minutes, "procedure_minutes": procedure_type.procedure_minutes,
        "recovery_minutes": procedure_type.recovery_minutes, "setup_minutes": procedure_type.setup_minutes,
        "turnover_minutes": procedure_type.turnover_minutes,
        "required_capabilities": [c.pk for c in procedure_type.required_capabilities.all()],
        "sedation": procedure_type.sedation, "fasting_hours": procedure_type.fasting_hours,
        "bleeding_risk": procedure_type.bleeding_risk, "patient_preparation_en": procedure_type.patient_preparation_en,
        "patient_preparation_es": procedure_type.patient_preparation_es or "",
        "requires_order": "on" if procedure_type.requires_order else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_the_front_desk_is_refused_the_catalogs_change_page(client, front_desk, demo_clinic):
    esi = ProcedureType.objects.get(code="ESI_IL")
    client.force_login(front_desk)
    page = client.get(admin_url(ProcedureType, "change", esi.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # read-only view
    response = client.post(admin_url(ProcedureType, "change", esi.pk), _procedure_form(esi, procedure_minutes=5))
    assert response.status_code == 403
    esi.refresh_from_db()
    assert esi.procedure_minutes == 20


def test_the_clinic_manager_edits_the_catalog_and_the_change_is_kept_in_history(client, manager, demo_clinic):
    esi = ProcedureType.objects.get(code="ESI_IL")
    client.force_login(manager)
    response = client.post(admin_url(ProcedureType, "change", esi.pk), _procedure_form(esi, procedure_minutes=25))
    assert response.status_code == 302, response.context["adminform"].form.errors
    esi.refresh_from_db()
    assert esi.procedure_minutes == 25
    assert esi.history.order_by("-history_id").first().history_user == manager


def test_the_catalog_form_shows_validation_errors(client, manager, demo_clinic):
    rfa = ProcedureType.objects.get(code="RFA_LUMBAR")
    client.force_login(manager)
    response = client.post(admin_url(ProcedureType, "change", rfa.pk), _procedure_form(rfa, fasting_hours=0))
    assert response.status_code == 200
    assert "Moderate sedation or anesthesia needs fasting hours" in response.content.decode()


def test_the_front_desk_cannot_edit_the_hold_table(client, front_desk, demo_clinic):
    warfarin = BloodThinner.objects.get(name="Warfarin")
    client.force_login(front_desk)
    response = client.post(admin_url(BloodThinner, "change", warfarin.pk), {"name": "Warfarin", "hold_days_high": 1,
                                                                           "hold_days_intermediate": 1, "hold_days_low": 0})
    assert response.status_code == 403


def test_the_front_desk_keeps_patient_details_current(client, front_desk, demo_clinic):
    patient = Patient.objects.first()
    client.force_login(front_desk)
    response = client.post(admin_url(Patient, "change", patient.pk), {
        "first_name": patient.first_name, "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(), "phone": "(918) 555-0199", "email": patient.email,
        "preferred_channel": "sms", "language": "en", "sms_consent": "on", "email_consent": "on",
        **PATIENT_PAGE_INLINES,
    })
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "(918) 555-0199"


def _location_form(location: Location, closures: list[tuple[str, str, str]]) -> dict:
    data = {
        "name": location.name, "is_active": "on", "time_zone": location.time_zone, "phone": location.phone,
        "address_line": location.address_line, "city": location.city, "state": location.state,
        "postal_code": location.postal_code, "recovery_bays": location.recovery_bays,
        "slot_interval_minutes": 15, "minimum_notice_hours": 2, "booking_horizon_days": 90,
        "late_cancellation_hours": 24,
        "closures-TOTAL_FORMS": len(closures), "closures-INITIAL_FORMS": 0,
        "closures-MIN_NUM_FORMS": 0, "closures-MAX_NUM_FORMS": 1000,
    }
    for index, (first, last, reason) in enumerate(closures):
        data.update({f"closures-{index}-first_day": first, f"closures-{index}-last_day": last,
                     f"closures-{index}-reason": reason})
    return data


def test_closures_are_edited_inline_on_the_location_with_clear_errors(client, manager, demo_clinic):
    location = Location.objects.get()
    client.force_login(manager)
    url = admin_url(Location, "change", location.pk)
    bad = client.post(url, _location_form(location, [("2026-12-26", "2026-12-25", "Christmas")]))
    assert "The last day of a closure cannot be before its first day." in bad.content.decode()
    assert location.closures.filter(first_day="2026-12-25").exists()  # the demo's Christmas
    again = client.post(url, _location_form(location, [("2026-12-25", "2026-12-25", "Christmas")]))
    assert "is already closed on some of these days" in again.content.decode()
    good = client.post(url, _location_form(location, [("2026-12-24", "2026-12-24", "Christmas Eve")]))
    assert good.status_code == 302
    assert location.closures.filter(first_day="2026-12-24", reason="Christmas Eve").exists()


def test_an_unknown_time_zone_is_a_form_error(client, manager, demo_clinic):
    location = Location.objects.get()
    client.force_login(manager)
    data = _location_form(location, [])
    data["time_zone"] = "Mars/Olympus_Mons"
    response = client.post(admin_url(Location, "change", location.pk), data)
    assert "is not a known IANA time zone" in response.content.decode()


def _physician_form(physician: Physician, blocks: list[tuple]) -> dict:
    data = {
        "user": physician.user_id, "credentials": "MD", "npi": physician.npi, "is_active": "on",
        "procedure_types": [p.pk for p in physician.procedure_types.all()],
        "schedule_blocks-TOTAL_FORMS": len(blocks), "schedule_blocks-INITIAL_FORMS": 0,
        "schedule_blocks-MIN_NUM_FORMS": 0, "schedule_blocks-MAX_NUM_FORMS": 1000,
        "time_off-TOTAL_FORMS": 0, "time_off-INITIAL_FORMS": 0,
        "time_off-MIN_NUM_FORMS": 0, "time_off-MAX_NUM_FORMS": 1000,
    }
    for index, (weekday, start, end, kind, location_id) in enumerate(blocks):
        data.update({f"schedule_blocks-{index}-weekday": weekday, f"schedule_blocks-{index}-start_time": start,
                     f"schedule_blocks-{index}-end_time": end, f"schedule_blocks-{index}-kind": kind,
                     f"schedule_blocks-{index}-location": location_id,
                     f"schedule_blocks-{index}-valid_from": "2027-01-04"})
    return data


def test_schedule_blocks_typed_together_may_not_overlap(client, manager, demo_clinic):
    physician = Physician.objects.get(user__username="nair")
    location = Location.objects.get()
    client.force_login(manager)
    before = ScheduleBlock.objects.count()
    response = client.post(admin_url(Physician, "change", physician.pk), _physician_form(physician, [
        (5, "08:00", "12:00", "clinic", location.pk),
        (5, "11:00", "15:00", "procedures", location.pk),
    ]))
    assert "a physician cannot be in two blocks at once" in response.content.decode()
    assert ScheduleBlock.objects.count() == before


def test_a_schedule_block_that_ends_before_it_starts_is_a_form_error(client, manager, demo_clinic):
    physician = Physician.objects.get(user__username="nair")
    client.force_login(manager)
    response = client.post(admin_url(Physician, "change", physician.pk), _physician_form(
        physician, [(5, "15:00", "08:00", "clinic", Location.objects.get().pk)]))
    assert "must end after it starts" in response.content.decode()


def test_a_manager_cannot_grant_superuser_status_or_touch_a_superuser(client, manager, superuser, demo_clinic):
    from django.contrib.auth.models import User

    client.force_login(manager)
    own = client.get(reverse("admin:auth_user_change", args=[manager.pk])).content.decode()
    assert 'name="is_superuser"' not in own and 'name="user_permissions"' not in own
    assert client.get(reverse("admin:auth_user_change", args=[superuser.pk])).status_code == 302  # not found
    assert client.get(reverse("admin:auth_user_password_change", args=[superuser.pk])).status_code == 404
    assert User.objects.get(pk=superuser.pk).check_password("pw-for-tests-only")


def test_a_physician_records_only_their_own_time_off(client, demo_clinic):
    from clinic import roles
    from clinic.models import TimeOff
    from django.contrib.auth.models import Group

    okafor = Physician.objects.get(user__username="okafor")
    reyes = Physician.objects.get(user__username="reyes")
    okafor.user.groups.add(Group.objects.get(name=roles.PHYSICIAN))
    theirs = TimeOff.objects.create(physician=reyes, starts_at="2026-12-01T00:00Z", ends_at="2026-12-02T00:00Z")
    client.force_login(okafor.user)
    assert client.get(admin_url(TimeOff, "change", theirs.pk)).status_code == 302  # not theirs: not found
    response = client.post(admin_url(TimeOff, "add"), {"physician": reyes.pk, "starts_at_0": "2026-12-07",
                                                       "starts_at_1": "08:00", "ends_at_0": "2026-12-07",
                                                       "ends_at_1": "17:00", "reason": "CME"})
    assert response.status_code == 200 and not TimeOff.objects.filter(reason="CME").exists()
    response = client.post(admin_url(TimeOff, "add"), {"physician": okafor.pk, "starts_at_0": "2026-12-07",
                                                       "starts_at_1": "08:00", "ends_at_0": "2026-12-07",
                                                       "ends_at_1": "17:00", "reason": "CME"})
    assert response.status_code == 302 and TimeOff.objects.get(reason="CME").physician == okafor


def test_out_of_service_times_are_typed_in_the_rooms_own_zone(client, manager, demo_clinic):
    from clinic.models import Room

    denver = Location.objects.create(name="Denver", time_zone="America/Denver", address_line="1 Main", city="Denver",
                                     state="CO", postal_code="80202", phone="(303) 555-0100")
    room = Room.objects.create(location=denver, name="Fluoro D", kind="procedure_suite")
    client.force_login(manager)
    response = client.post(admin_url(Room, "change", room.pk), {
        "location": denver.pk, "name": "Fluoro D", "kind": "procedure_suite", "is_active": "on",
        "out_of_service-TOTAL_FORMS": 1, "out_of_service-INITIAL_FORMS": 0, "out_of_service-MIN_NUM_FORMS": 0,
        "out_of_service-MAX_NUM_FORMS": 1000, "out_of_service-0-starts_at_0": "2026-12-01",
        "out_of_service-0-starts_at_1": "08:00", "out_of_service-0-ends_at_0": "2026-12-01",
        "out_of_service-0-ends_at_1": "12:00", "out_of_service-0-reason": "C-arm service",
    })
    assert response.status_code == 302
    period = room.out_of_service.get()
    assert period.starts_at.astimezone(denver.zone).hour == 8  # 08:00 in Denver, 15:00 UTC


def test_a_physicians_page_is_headed_by_the_physician_and_the_zone_of_its_times(client, manager, demo_clinic):
    physician = Physician.objects.get(user__username="okafor")
    client.force_login(manager)
    page = client.get(admin_url(Physician, "change", physician.pk)).content.decode()
    assert f"<h2>{physician} (times in America/Chicago)</h2>" in page
    assert f"<title>{physician} (times in America/Chicago) | Change physician" in page
