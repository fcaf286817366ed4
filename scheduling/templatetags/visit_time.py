"""Dates and times on patient pages, in the current zone (the location's) and language."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from clinic.phone_numbers import e164

register = template.Library()


def _local(value):
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


@register.filter
def day(value) -> str:
    """Monday, November 30"""
    return date_format(_local(value), _("l, F j")) if value else ""


@register.filter
def longday(value) -> str:
    """Monday, November 30, 2026"""
    return date_format(_local(value), _("l, F j, Y")) if value else ""


@register.filter
def shortday(value) -> str:
    """Mon 30"""
    return date_format(_local(value), _("D j")) if value else ""


@register.filter
def clock(value) -> str:
    """9:00 AM"""
    return date_format(_local(value), _("g:i A")) if value else ""


@register.filter
def tel(phone) -> str:
    """A dialable tel: address: "(918) 555-0140" is "tel:+19185550140"."""
    number = e164(phone)
    if number:
        return f"tel:{number}"
    digits = "".join(character for character in str(phone or "") if character.isdigit())
    return f"tel:{digits}" if digits else ""
