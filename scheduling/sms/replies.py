"""The answer to a patient's text, in their language: what carriers require for STOP, START and
HELP (the sender's name, a way to get help, how to stop), and a pointer to the phone otherwise."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from clinic.phone_numbers import national
from scheduling.services.sms import Keyword, ReplyOutcome


def reply_text(outcome: ReplyOutcome) -> str:
    clinic = outcome.clinic
    names = {"clinic": clinic.name if clinic else "Interval", "phone": national(clinic.phone) if clinic else ""}
    language = outcome.patients[0].language if outcome.patients else None
    with translation.override(language or translation.get_language()):
        if outcome.keyword == Keyword.STOP:
            return _("%(clinic)s: you will get no more text messages from us. Reply START to get them again. "
                     "Questions: %(phone)s.") % names
        if outcome.keyword == Keyword.START:
            return _("%(clinic)s: you will get text messages about your visits again. Reply HELP for help, "
                     "STOP to stop them.") % names
        if outcome.keyword == Keyword.HELP:
            return _("%(clinic)s visit messages. For help call us at %(phone)s. Reply STOP to stop texts, "
                     "START to get them again. Message and data rates may apply.") % names
        return _("%(clinic)s: replies to this number are not read. Please call us at %(phone)s. "
                 "Reply HELP for help, STOP to stop texts.") % names
