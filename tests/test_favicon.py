"""The site's icon: browsers ask for /favicon.ico on every page; the staff's and the patients'
pages link to the icon themselves."""

from __future__ import annotations

import pytest
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_sites_icon_instead_of_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == static("clinic/favicon.svg")


def test_the_admin_and_the_patient_pages_link_to_the_icon(client, front_desk):
    link = f'<link rel="icon" href="{static("clinic/favicon.svg")}"'
    assert link in client.get(reverse("book-start")).content.decode()
    client.force_login(front_desk)
    assert link in client.get(reverse("admin:index")).content.decode()
