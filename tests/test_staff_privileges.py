"""Nobody raises their own privileges: a pathway-rule override needs a practising physician,
and no staff login grants itself (or anyone) rights it does not hold."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from rest_framework.test import APIClient

from clinic import roles
from clinic.models import Physician
from scheduling.errors import NotEligible
from scheduling.models import EligibilityOverride
from scheduling.pathways.overrides import may_override_rules
from tests.conftest import NEXT_MONDAY, local
from tests.test_pathways import book, patient_with, record_procedure

pytestmark = pytest.mark.django_db


def _user_form(user: User, **changes) -> dict:
    """The admin's change form for `user`, as a browser would send it back."""
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "is_active": "on", "is_staff": "on" if user.is_staff else "",
        "groups": [str(pk) for pk in user.groups.values_list("pk", flat=True)],
        "date_joined_0": "2026-11-24", "date_joined_1": "08:00:00",
        "last_login_0": "", "last_login_1": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def _group(name: str) -> str:
    return str(Group.objects.get(name=name).pk)


def _refused_booking(calendar):
    """A second ESI ten days after the first: refused by the 14-day rule unless overridden."""
    patient = patient_with("Medicare")
    record_procedure(calendar, patient, "ESI_IL", NEXT_MONDAY - dt.timedelta(days=10), relief=80)
    calendar.order_for(patient)
    return patient


def _api_override(user, calendar, patient):
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    return client.post("/api/v1/appointments/", {
        "patient": patient.pk, "procedure_type": "ESI_IL", "physician": calendar.okafor.pk,
        "start": local(NEXT_MONDAY, 9).isoformat(), "override_reason": "I say so"}, format="json")


# ---- Overriding a pathway rule ------------------------------------------------------------------

def test_a_manager_in_the_physician_group_cannot_override_a_rule_through_the_api(calendar, manager):
    manager.groups.add(Group.objects.get(name=roles.PHYSICIAN))  # as if added by someone else
    patient = _refused_booking(calendar)
    response = _api_override(manager, calendar, patient)
    assert response.status_code == 400
    assert response.json()["code"] == "not_eligible"
    assert response.json()["detail"].startswith("Only a physician can override a pathway rule.")
    assert not EligibilityOverride.objects.exists()


def test_a_physician_whose_record_is_inactive_cannot_override(calendar, physician_user):
    Physician.objects.create(user=physician_user, is_active=False)
    patient = _refused_booking(calendar)
    with pytest.raises(NotEligible, match="Only a physician can override"):
        book(calendar, patient, by=User.objects.get(pk=physician_user.pk), override_reason="Flare")
    Physician.objects.filter(user=physician_user).update(is_active=True)
    assert may_override_rules(User.objects.get(pk=physician_user.pk))


def test_a_physician_record_without_the_role_cannot_override(calendar, manager):
    """A manager who links their own login to a physician record still lacks the permission."""
    Physician.objects.filter(pk=calendar.reyes.pk).update(user=manager)
    manager = User.objects.get(pk=manager.pk)
    assert not may_override_rules(manager)
    assert _api_override(manager, calendar, _refused_booking(calendar)).status_code == 400


def test_a_practising_physician_overrides_through_the_api(calendar, practising_physician):
    response = _api_override(practising_physician, calendar, _refused_booking(calendar))
    assert response.status_code == 201, response.json()
    assert EligibilityOverride.objects.get().overridden_by == practising_physician


def test_ordering_despite_a_prerequisite_needs_a_practising_physician_too(calendar, manager, practising_physician):
    manager.groups.add(Group.objects.get(name=roles.PHYSICIAN))
    ablation = {"patient": calendar.patients[0].pk, "procedure_type": "RFA_LUMBAR",
                "ordering_physician": calendar.okafor.pk, "region": "lumbar", "override_reason": "Blocks done elsewhere"}
    responses = {}
    for user in (manager, practising_physician):
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=user.pk))
        responses[user.username] = client.post("/api/v1/orders/", ablation, format="json")
    refused = responses[manager.username]
    assert refused.status_code == 400 and refused.json()["detail"].startswith("Only a physician can override")
    assert responses[practising_physician.username].status_code == 201


def test_the_admin_booking_form_offers_the_override_only_to_a_practising_physician(
        client, calendar, manager, practising_physician):
    manager.groups.add(Group.objects.get(name=roles.PHYSICIAN))
    add = reverse("admin:scheduling_appointment_add")
    client.force_login(manager)
    assert 'name="override_reason"' not in client.get(add).content.decode()
    client.force_login(practising_physician)
    assert 'name="override_reason"' in client.get(add).content.decode()


def test_superuser_status_alone_does_not_override(calendar, superuser):
    assert not may_override_rules(superuser)
    assert _api_override(superuser, calendar, _refused_booking(calendar)).json()["code"] == "not_eligible"


# ---- Staff logins in the admin ------------------------------------------------------------------

def test_a_manager_cannot_add_the_physician_group_to_their_own_login(client, manager):
    client.force_login(manager)
    url = reverse("admin:auth_user_change", args=[manager.pk])
    page = client.get(url).content.decode()
    assert 'name="groups"' not in page and 'name="is_staff"' not in page
    client.post(url, _user_form(manager, groups=[_group(roles.CLINIC_MANAGER), _group(roles.PHYSICIAN)]))
    assert list(manager.groups.values_list("name", flat=True)) == [roles.CLINIC_MANAGER]


def test_a_superuser_cannot_change_their_own_status_or_roles(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:auth_user_change", args=[superuser.pk])
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    client.post(url, _user_form(superuser, groups=[_group(roles.PHYSICIAN)], is_staff=""))
    superuser.refresh_from_db()
    assert superuser.is_superuser and superuser.is_staff and not superuser.groups.exists()


def test_a_manager_gives_a_colleague_a_role_they_hold(client, manager, front_desk):
    client.force_login(manager)
    response = client.post(reverse("admin:auth_user_change", args=[front_desk.pk]),
                           _user_form(front_desk, groups=[_group(roles.FRONT_DESK), _group(roles.NURSE)]))
    assert response.status_code == 302
    assert set(front_desk.groups.values_list("name", flat=True)) == {roles.FRONT_DESK, roles.NURSE}


def test_a_manager_cannot_grant_the_physician_role_they_do_not_hold(client, manager, front_desk):
    client.force_login(manager)
    url = reverse("admin:auth_user_change", args=[front_desk.pk])
    response = client.post(url, _user_form(front_desk, groups=[_group(roles.PHYSICIAN)]))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert list(front_desk.groups.values_list("name", flat=True)) == [roles.FRONT_DESK]


def test_a_manager_cannot_take_over_a_physicians_login(client, manager, practising_physician):
    client.force_login(manager)
    password_url = reverse("admin:auth_user_password_change", args=[practising_physician.pk])
    response = client.post(password_url, {"password1": "Taken-over-2026!", "password2": "Taken-over-2026!",
                                          "usable_password": "true"})
    assert response.status_code == 403
    change = client.post(reverse("admin:auth_user_change", args=[practising_physician.pk]),
                         _user_form(practising_physician, email="manager@example.com"))
    assert change.status_code == 403
    practising_physician.refresh_from_db()
    assert not practising_physician.check_password("Taken-over-2026!")
    assert practising_physician.email != "manager@example.com"


def test_a_superuser_grants_the_physician_role(client, superuser, front_desk):
    client.force_login(superuser)
    client.post(reverse("admin:auth_user_change", args=[front_desk.pk]),
                _user_form(front_desk, groups=[_group(roles.PHYSICIAN)]))
    assert list(front_desk.groups.values_list("name", flat=True)) == [roles.PHYSICIAN]
