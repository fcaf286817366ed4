"""The API keeps the promises of its OpenAPI schema: schemathesis generates requests for every
operation from `/api/schema/` and sends them to a live server with a superuser's token.

Any 5xx, a response that does not match the schema, a status or content type the schema does not
list fails the run. Generation is deterministic (the same cases every run) and bounded: every
boundary and negative case of the schema (the coverage phase), then 10 generated cases per
operation, sent two at a time; about a minute and a half on a quiet machine. The NUL byte is
generated too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle

from clinic.models import Location, Patient, Physician, ProcedureType, Room
from scheduling import services
from scheduling.models import Appointment, ProcedureOrder
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.schemathesis

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
MAX_EXAMPLES = 10


def book_visits(superuser) -> None:
    """Two visits, so operations on a visit reach their logic and not only 404."""
    okafor = Physician.objects.get(user__username="okafor")
    first, second = Patient.objects.order_by("pk")[:2]
    esi, consult = ProcedureType.objects.get(code="ESI_IL"), ProcedureType.objects.get(code="CONSULT_NEW")
    with time_machine.travel(NOW, tick=False):
        order = ProcedureOrder.objects.create(patient=first, procedure_type=esi, ordering_physician=okafor,
                                              region="lumbar", authorization_status="approved",
                                              authorization_number="PA-1")
        services.appointment_book(patient=first, procedure_type=esi, physician=okafor, order=order,
                                  start=local(NEXT_MONDAY, 9), by=superuser)
        services.appointment_book(patient=second, procedure_type=consult, physician=okafor,
                                  start=local(NEXT_MONDAY + dt.timedelta(days=1), 9), by=superuser)


def schemathesis_config() -> str:
    """Real ids and codes, offered half of the time in place of generated ones."""
    ids = sorted({*Appointment.objects.values_list("pk", flat=True), *Patient.objects.values_list("pk", flat=True)[:5],
                  *ProcedureOrder.objects.values_list("pk", flat=True), *Location.objects.values_list("pk", flat=True),
                  *Room.objects.values_list("pk", flat=True)[:3], *Physician.objects.values_list("pk", flat=True)})
    dictionaries = {
        "ids": ids,
        "patients": list(Patient.objects.values_list("pk", flat=True)[:3]),
        "physicians": list(Physician.objects.values_list("pk", flat=True)),
        "locations": list(Location.objects.values_list("pk", flat=True)),
        "codes": ["ESI_IL", "CONSULT_NEW", "MBB_LUMBAR"],
    }
    bindings = {"path.id": "ids", "path.code": "codes", "query.procedure_type": "codes", "query.location": "locations",
                "body.patient": "patients", "body.physician": "physicians", "body.ordering_physician": "physicians",
                "body.procedure_type": "codes"}
    lines = [f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n" for name, values in dictionaries.items()]
    # Methods an operation does not have answer 405 from the framework: not worth the time here.
    lines.append("[phases.coverage]\nunexpected-methods = []\n")
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}' for key, name in bindings.items()]
    return "\n".join(lines) + "\n"


def schemathesis_command(base_url: str, token: str) -> list[str]:
    return [
        str(SCHEMATHESIS), "--config-file", "schemathesis.toml", "run", f"{base_url}/api/schema/",
        "--header", f"Authorization: Token {token}",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                    "response_schema_conformance,response_headers_conformance",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
        # Two at a time: the run is the suite's longest test and, handed out last, mostly runs
        # alone; the live server answers each request on a thread of its own.
        "--workers", "2", "--no-color",
    ]


@pytest.fixture
def quiet_request_log():
    """Thousands of refused requests are expected here; 5xx still reach the log."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture
def unthrottled(monkeypatch):
    """The one token sends thousands of requests a minute: past the API's rate, every operation
    would answer 429 and its logic would go untested."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "1000000/s", "anon": "1000000/s"})


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("quiet_request_log", "unthrottled")
def test_every_api_operation_keeps_to_its_schema_under_generated_requests(live_server, demo_clinic, superuser,
                                                                           tmp_path):
    token = Token.objects.create(user=superuser).key
    book_visits(superuser)
    (tmp_path / "schemathesis.toml").write_text(schemathesis_config())
    run = subprocess.run(schemathesis_command(live_server.url, token), capture_output=True, text=True,
                         timeout=600, cwd=tmp_path, env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"})
    summary = (run.stdout + run.stderr)[-8000:]
    print(run.stdout[run.stdout.rfind("SUMMARY") - 40:])  # shown with -s or -rP: operations, cases, failures
    assert run.returncode == 0, summary
    selected, total = re.search(r"Selected: (\d+)/(\d+)", run.stdout).groups()
    assert selected == total and f"Tested: {total}" in run.stdout, summary  # every operation
    assert re.search(r"(\d+) generated, \1 passed", run.stdout), summary
