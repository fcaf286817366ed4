"""The one way to write the patient access log: every staff view of a patient's record or
visit calls `record_access` (admin change pages, API answers with patient data, exports)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from clinic.models import Patient, PatientAccess
from clinic.rows import insert


def client_address(request) -> str | None:
    """The client's address: behind a proxy, from the header the rate limits trust too."""
    key = getattr(settings, "RATELIMIT_IP_META_KEY", None)
    value = request.META.get(key if isinstance(key, str) else "REMOTE_ADDR") or request.META.get("REMOTE_ADDR")
    if not value:
        return None
    return value.split(",")[0].strip() or None


def record_access(request, patients: Iterable[Patient | int | None], what: str) -> None:
    """Log that `request.user` saw these patients on `what` (a page or an endpoint): one row per
    patient, in one insert. Patients may be given as records or ids; repeats count once."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    ids = list(dict.fromkeys(p.pk if isinstance(p, Patient) else p for p in patients if p is not None))
    if not ids:
        return
    address, username = client_address(request), user.get_username()
    rows = [PatientAccess(user_id=user.pk, username=username, patient_id=patient_id, address=address, what=what[:255])
            for patient_id in ids]
    insert(rows)


def request_label(request) -> str:
    return f"{request.method} {request.path}"


class AccessLoggedAdmin:
    """Admin mixin: a change page logs that its user saw the patient it shows."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None:
            record_access(request, [obj if isinstance(obj, Patient) else obj.patient_id], request_label(request))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


class AccessLoggedViewSet:
    """API mixin: a successful answer carrying patient data logs who saw which patients, read
    from the answer itself (`patient_key` of each item, a page's `results` included)."""

    patient_key = "patient"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if 200 <= response.status_code < 300:
            data = response.data
            items = data.get("results", [data]) if isinstance(data, dict) else data if isinstance(data, list) else []
            record_access(request, [item.get(self.patient_key) for item in items if isinstance(item, dict)],
                          request_label(request))
        return response
