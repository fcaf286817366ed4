"""The catalog texts patients read, kept in each of settings.LANGUAGES (django-modeltranslation).

A procedure type's name and preparation, a blood thinner's restart guidance, and a location's
"what to bring" and late-cancellation note read in the language of the request: the patient's
pages in Spanish show the Spanish texts. A translation left empty reads as the English text.
The admin shows one field per language.
"""

from modeltranslation.translator import TranslationOptions, register

from clinic.models import BloodThinner, Location, ProcedureType


@register(ProcedureType)
class ProcedureTypeTexts(TranslationOptions):
    fields = ("name", "patient_preparation")
    empty_values = {"name": None}  # a name not yet translated is NULL, so that the names stay unique
    required_languages = {"en": ("name",)}


@register(BloodThinner)
class BloodThinnerTexts(TranslationOptions):
    fields = ("restart_guidance",)


@register(Location)
class LocationTexts(TranslationOptions):
    fields = ("what_to_bring", "late_cancellation_note")
    # Only an empty text is untranslated: these have defaults, which a location may well keep.
    fallback_undefined = {"what_to_bring": "", "late_cancellation_note": ""}
