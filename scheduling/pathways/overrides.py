"""Who may override a pathway rule for one booking or order.

A rule override is a clinical decision, so it takes a physician on the clinic's books: the role's
permission alone is not enough (a login can be put in the Physician group by mistake or on
purpose), the login must also be linked to an active physician record. Every caller that offers
or accepts an override (the booking and order services, the API, the admin forms) asks here.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

OVERRIDE_PERMISSION = "scheduling.override_eligibility_appointment"


def may_override_rules(user) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if not user.has_perm(OVERRIDE_PERMISSION):
        return False
    try:
        physician = user.physician
    except ObjectDoesNotExist:
        return False
    return physician.is_active
