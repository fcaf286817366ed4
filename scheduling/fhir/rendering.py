"""FHIR JSON in and out, through fhir.resources (R4B models, wire-compatible with R4 for every
resource served here): each answer is validated by the library's model of its resource type,
so a shape the standard does not allow fails here, not at the client.

A large Bundle (a week of slots) is the exception in how, not whether: validating and writing
every entry through pydantic costs about 0.4 ms a slot, three times the REST API's whole answer
for 150 slots (measured with the benchmark of the time). Its entries are built by the same mapping function per resource
type, so the Bundle is validated with one entry of each resource type and written with the
standard json module (slot entries come already written, mapping.slot_entries_json);
tests/test_fhir*.py validate whole answers, every entry, with the library.
"""

from __future__ import annotations

import json

from fhir.resources.R4B import get_fhir_model_class

from scheduling.fhir.mapping import EntriesJSON
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer

FHIR_JSON = "application/fhir+json"


def _without_empty(value):
    """Leave out None, empty lists and empty objects: FHIR forbids empty elements."""
    if isinstance(value, dict):
        kept = {key: _without_empty(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in (None, [], {})}
    if isinstance(value, list):
        kept = [_without_empty(item) for item in value]
        return [item for item in kept if item not in (None, [], {})]
    return value


# Bundles with more entries than this are validated with one entry of each resource type.
WHOLE_BUNDLE_ENTRIES = 20


def _sample(bundle: dict) -> dict:
    """The Bundle with only the first entry of each resource type (and its outcome)."""
    seen, kept = set(), []
    for entry in bundle.get("entry") or []:
        kind = entry["resource"]["resourceType"]
        if kind not in seen:
            seen.add(kind)
            kept.append(entry)
    return {**bundle, "entry": kept}


def fhir_json(resource: dict) -> bytes:
    """The resource as FHIR JSON, validated by fhir.resources' model of its type."""
    model = get_fhir_model_class(resource["resourceType"])
    written = resource.get("entry")
    if isinstance(written, EntriesJSON):
        # Entries written as text (mapping.slot_entries_json): the first one, read back, stands for them.
        shell = {key: value for key, value in resource.items() if key != "entry"}
        model.model_validate({**shell, "entry": [json.loads(written[0])]} if written else shell)
        text = json.dumps(shell, ensure_ascii=False, separators=(",", ":"))
        if written:
            text = text[:-1] + ',"entry":[' + ",".join(written) + "]}"
        return text.encode()
    if resource["resourceType"] == "Bundle" and len(resource.get("entry") or []) > WHOLE_BUNDLE_ENTRIES:
        # The mapping leaves out empty elements itself (mapping._compact); the tests hold it to that.
        model.model_validate(_without_empty(_sample(resource)))
        return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()
    return model.model_validate(_without_empty(resource)).model_dump_json().encode()


class FhirJSONRenderer(BaseRenderer):
    media_type = FHIR_JSON
    format = "json"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return fhir_json(data)


class FhirJSONParser(JSONParser):
    media_type = FHIR_JSON


class FhirOnlyNegotiation(BaseContentNegotiation):
    """Always FHIR JSON: a client asking for XML (or sending `_format=xml`) still gets JSON,
    which the CapabilityStatement says is the only format."""

    def select_parser(self, request, parsers):
        content_type = (request.content_type or "").split(";")[0].strip()
        return next((parser for parser in parsers if parser.media_type == content_type), None)

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
