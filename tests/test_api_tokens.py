"""API tokens: the token's user is read with their permissions in one statement
(clinic/permissions.py), and those permissions decide as Django's would."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _with_token(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _new_patient(client) -> int:
    return client.post("/api/v1/patients/", {"first_name": "Ruth", "last_name": "Okonkwo",
                                             "date_of_birth": "1948-03-02", "email": "ruth@example.com"},
                       format="json").status_code


def test_permissions_from_the_users_groups_count(demo_clinic, front_desk, nurse):
    assert _new_patient(_with_token(front_desk)) == 201
    assert _new_patient(_with_token(nurse)) == 403


def test_a_permission_given_to_the_user_alone_counts(demo_clinic, nurse):
    nurse.user_permissions.add(Permission.objects.get(codename="add_patient"))
    assert _new_patient(_with_token(nurse)) == 201


def test_a_user_without_any_permission_is_refused(demo_clinic):
    nobody = get_user_model().objects.create_user("nobody", password="pw-for-tests-only", is_staff=True)
    assert _new_patient(_with_token(nobody)) == 403


def test_bad_and_inactive_tokens_are_refused(demo_clinic, front_desk):
    client = _with_token(front_desk)
    front_desk.is_active = False
    front_desk.save()
    assert client.get("/api/v1/patients/").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert wrong.get("/api/v1/patients/").json()["code"] == "authentication_failed"


def test_ids_past_a_64_bit_integer_in_list_filters_are_refused(demo_clinic, front_desk):
    client = _with_token(front_desk)
    huge = "99999999999999999999"
    for path in (f"/api/v1/appointments/?physician={huge}", f"/api/v1/appointments/?location={huge}",
                 f"/api/v1/appointments/?patient={huge}", f"/api/v1/orders/?patient={huge}",
                 f"/api/v1/care-plans/?patient={huge}"):
        response = client.get(path)
        assert response.status_code == 400, path


def test_the_token_user_is_read_whole_in_one_statement(demo_clinic, front_desk, django_assert_num_queries):
    import datetime as dt

    from clinic.permissions import TokenAuthentication

    key = Token.objects.create(user=front_desk).key
    with django_assert_num_queries(1):
        user, token = TokenAuthentication().authenticate_credentials(key)
        assert user.has_perm("clinic.add_patient") and not user.has_perm("clinic.delete_location")
    assert (user.pk, user.username, token.key, token.user) == (front_desk.pk, "frontdesk-test", key, user)
    assert isinstance(user.date_joined, dt.datetime) and user.date_joined.tzinfo is not None
