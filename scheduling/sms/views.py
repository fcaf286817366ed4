"""Twilio's calls to us: delivery reports for our texts, and the texts patients send back.

Both check the X-Twilio-Signature with the SDK's RequestValidator over the address Twilio was
given (SITE_URL and the path, with its query) and the form fields: a request that fails it is
refused with 403 before anything is read. A report about no text of ours is answered 200 and
ignored (Twilio would otherwise retry it); a signed request without the fields it needs is 400.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from clinic.phone_numbers import e164
from scheduling.services.sms import sms_delivery_report, sms_reply_receive
from scheduling.sms.replies import reply_text

logger = logging.getLogger(__name__)

MAX_FIELD = 1600  # the longest text Twilio takes is 1,600 characters


def _signed(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    # The address Twilio posted to, as configured (behind a proxy the request's own scheme and
    # host may differ): SITE_URL, then the path and query as received.
    url = settings.SITE_URL.rstrip("/") + request.get_full_path()
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST, signature)


def _field(request: HttpRequest, name: str) -> str:
    return request.POST.get(name, "").strip()


def _well_formed(*values: str) -> bool:
    return all(len(value) <= MAX_FIELD for value in values)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        return HttpResponseForbidden("Signature not valid.")
    message_id, status = _field(request, "MessageSid"), _field(request, "MessageStatus")
    error_code = _field(request, "ErrorCode")
    reminder_key = request.GET.get("reminder", "").strip()
    if not (message_id and status) or not _well_formed(message_id, status, reminder_key) or \
            (error_code and not error_code.isdigit()) or len(message_id) > 64 or len(error_code) > 10:
        return HttpResponseBadRequest("MessageSid and MessageStatus are needed; ErrorCode is a number.")
    reminder = sms_delivery_report(message_id=message_id, reminder_key=reminder_key, status=status.lower(),
                                   error_code=error_code)
    if reminder is None:
        logger.info("Twilio status %r for message %s ignored: not a text of ours, or a step not tracked",
                    status, message_id)
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        return HttpResponseForbidden("Signature not valid.")
    sender, body = _field(request, "From"), request.POST.get("Body", "")
    if not sender or "Body" not in request.POST or not _well_formed(sender, body):
        return HttpResponseBadRequest("From and Body are needed.")
    from_number = e164(sender)
    if from_number is None:  # a short code or an alphanumeric sender: no patient of ours
        return HttpResponse(str(MessagingResponse()), content_type="text/xml")
    outcome = sms_reply_receive(from_number=from_number, body=body)
    answer = MessagingResponse()
    answer.message(reply_text(outcome))
    return HttpResponse(str(answer), content_type="text/xml")
