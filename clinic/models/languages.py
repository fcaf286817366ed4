"""The columns of a catalog text kept in each language (clinic/translation.py)."""

from __future__ import annotations

from django.conf import settings


def in_each_language(*fields: str) -> list[str]:
    """`name` gives name_en, name_es, ...: the columns django-modeltranslation adds. A model's
    history leaves them out: it records the text itself, read in the language of the change."""
    return [f"{field}_{code}" for field in fields for code, _ in settings.LANGUAGES]
