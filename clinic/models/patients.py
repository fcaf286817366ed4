"""Patients and the payers that cover them."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Value
from django.db.models.functions import Cast, Replace
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from clinic import phone_numbers
from clinic.models.bulk_changes import AnnouncedQuerySet
from clinic.models.catalog import BloodThinner
from clinic.models.validators import PHONE_PUNCTUATION, phone_key


class PayerKind(models.TextChoices):
    MEDICARE = "medicare", _("Medicare")
    MEDICAID = "medicaid", _("Medicaid")
    COMMERCIAL = "commercial", _("Commercial")
    SELF_PAY = "self_pay", _("Self-pay")


class Payer(models.Model):
    """An insurer (or self-pay). Pathway rules can be overridden per payer."""

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PayerKind.choices)
    requires_prior_authorization = models.BooleanField(
        _("requires prior authorization"), default=True,
        help_text=_("For procedure types marked as needing prior authorization."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("payer")
        verbose_name_plural = _("payers")

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")


class PatientQuerySet(models.QuerySet):
    def with_phone(self, phone: str) -> "PatientQuerySet":
        """Patients whose stored number is `phone`, however either was typed (see `phone_key`).

        Numbers are stored in E.164, but a row that never parsed keeps what was typed; the
        database strips the punctuation from either, so both match. The number searched for
        must have at least a local number's digits.
        """
        digits = Cast("phone", output_field=models.CharField())  # text, not a PhoneNumber to parse
        for character in PHONE_PUNCTUATION:
            digits = Replace(digits, Value(character), Value(""), output_field=models.CharField())
        return self.annotate(_phone_digits=digits).filter(_phone_digits__endswith=phone_key(phone))


class Patient(models.Model):
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80)
    date_of_birth = models.DateField(_("date of birth"))
    email = models.EmailField(_("email"), blank=True)
    # E.164 ("+19185550111"), shown nationally; see clinic/phone_numbers.py.
    phone = PhoneNumberField(_("phone"), max_length=32, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en",
        help_text=_("Messages and the patient's pages use this language."),
    )
    sms_consent = models.BooleanField(_("consents to text messages"), default=False)
    email_consent = models.BooleanField(_("consents to email"), default=False)
    blood_thinners = models.ManyToManyField(
        BloodThinner,
        related_name="patients",
        blank=True,
        verbose_name=_("blood thinners taken"),
        help_text=_("Drives the hold dates shown on appointments and sent in reminders."),
    )
    payer = models.ForeignKey(
        Payer, on_delete=models.PROTECT, related_name="patients", null=True, blank=True, verbose_name=_("payer")
    )
    member_id = models.CharField(_("member ID"), max_length=40, blank=True)
    needs_review = models.BooleanField(
        _("needs front-desk review"),
        default=False,
        help_text=_("Set for records patients created themselves online."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[blood_thinners])

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "date_of_birth"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [models.Index(fields=["last_name", "first_name", "date_of_birth"], name="patient_name_dob")]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.date_of_birth:%Y-%m-%d})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def consented_channels(self) -> list[str]:
        """The channels the patient agreed to be messaged on and gave the details for. Empty: no
        message of any kind goes out (consent is a fact about the patient, recorded when they
        give it; the staff see its absence flagged)."""
        return self.channels_consented(sms_consent=self.sms_consent, phone=self.phone,
                                       email_consent=self.email_consent, email=self.email)

    @staticmethod
    def channels_consented(*, sms_consent: bool, phone: str, email_consent: bool, email: str) -> list[str]:
        """`consented_channels` from the patient's values (a page that reads them as plain values)."""
        allowed = ((Channel.SMS, sms_consent and phone_numbers.given(phone)), (Channel.EMAIL, email_consent and bool(email)))
        return [channel for channel, ok in allowed if ok]

    @property
    def no_consent_to_contact(self) -> bool:
        return not self.consented_channels()

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.date_of_birth:
            today = timezone.localdate()
            if self.date_of_birth > today:
                errors["date_of_birth"] = _("The date of birth cannot be in the future.")
            elif self.date_of_birth < today - datetime.timedelta(days=365 * 125):
                errors["date_of_birth"] = _("Check the date of birth: it is more than 125 years ago.")
        if self.preferred_channel == Channel.SMS and not self.phone:
            errors["phone"] = _("A phone number is needed when text messages are the preferred channel.")
        if self.preferred_channel == Channel.EMAIL and not self.email:
            errors["email"] = (_("An email address is needed when email is the preferred channel: enter one, or "
                                 "choose text message as the preferred channel.") if self.phone else
                               _("An email address is needed when email is the preferred channel."))
        # No rule here that consent be given: "no" (or "not asked yet", from an integration) is a
        # valid answer, and a form that refused it would push staff to tick a box the patient never
        # agreed to. Such a patient gets no messages, and every staff view of them says so.
        if self.sms_consent and not self.phone:
            errors.setdefault("phone", _("A phone number is needed to send text messages."))
        if not self.email and not self.phone:
            errors["phone"] = _("Enter a phone number or an email address so the clinic can reach the patient.")
        if errors:
            raise ValidationError(errors)
