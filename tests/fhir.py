"""What the FHIR tests share: a client that sends a token as FHIR clients do, and a check that an
answer parses back with fhir.resources (the R4B models, wire-compatible with R4)."""

from __future__ import annotations

import json

from django.test import Client
from fhir.resources.R4B import get_fhir_model_class
from rest_framework.authtoken.models import Token

FHIR_JSON = "application/fhir+json"


def fhir_client(user, keyword: str = "Bearer") -> Client:
    token = Token.objects.get_or_create(user=user)[0].key
    return Client(HTTP_AUTHORIZATION=f"{keyword} {token}", HTTP_ACCEPT=FHIR_JSON)


def parsed(response, status: int = 200) -> dict:
    """The answer's JSON, after checking its status, its content type and that fhir.resources
    reads it back as the resource type it claims (each entry of a Bundle included)."""
    assert response.status_code == status, response.content[:800]
    assert response["Content-Type"].startswith(FHIR_JSON)
    # No empty elements anywhere (FHIR forbids them; large Bundles are written without a pass to drop them).
    assert b":null" not in response.content and b":[]" not in response.content and b":{}" not in response.content
    body = json.loads(response.content)
    get_fhir_model_class(body["resourceType"]).model_validate_json(response.content)
    return body


def post_parameters(client: Client, url: str, parameters: list[dict]):
    body = {"resourceType": "Parameters", "parameter": parameters}
    return client.post(url, json.dumps(body), content_type=FHIR_JSON)


def resources(bundle: dict, resource_type: str | None = None) -> list[dict]:
    return [entry["resource"] for entry in bundle.get("entry", [])
            if resource_type is None or entry["resource"]["resourceType"] == resource_type]


def issues(outcome: dict) -> list[str]:
    return [issue["diagnostics"] for issue in outcome["issue"]]
