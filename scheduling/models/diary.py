"""The patient's pain diary after a diagnostic block (DESIGN.md section 4).

The patient fills it in from the signed link in the pain-diary reminders: their pain before
the procedure (the baseline, asked at check-in or on the page), their pain at each prompt
time of the procedure type's plan (minutes after the procedure's end), and a note. Interval
computes the relief from it (`scheduling.diary.summary`); the outcome a nurse or physician
confirms from it is recorded as an `Outcome` with source "patient-reported (diary)".
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from scheduling.models.appointments import Appointment

NOTE_MAX_LENGTH = 1000


class BaselineSource(models.TextChoices):
    CHECK_IN = "check_in", _("asked at check-in")
    PAGE = "page", _("given by the patient on the diary page")


class PainDiary(models.Model):
    """One visit's diary. Created when a first piece of it is recorded."""

    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="pain_diary",
                                       verbose_name=_("appointment"))
    baseline_pain = models.PositiveSmallIntegerField(_("pain before the procedure (0-10)"), null=True, blank=True,
                                                     validators=[MaxValueValidator(10)])
    baseline_source = models.CharField(_("pain before asked"), max_length=10, choices=BaselineSource.choices,
                                       blank=True)
    baseline_recorded_at = models.DateTimeField(_("pain before recorded"), null=True, blank=True)
    # When the procedure really ended (the visit moved to recovery, or was completed straight
    # from the procedure); until then the planned end stands in. The prompts count from it.
    procedure_ended_at = models.DateTimeField(_("procedure ended"), null=True, blank=True)
    note = models.TextField(_("patient's note"), blank=True, max_length=NOTE_MAX_LENGTH)
    note_recorded_at = models.DateTimeField(_("note recorded"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("pain diary")
        verbose_name_plural = _("pain diaries")
        constraints = [
            models.CheckConstraint(condition=models.Q(baseline_pain__lte=10), name="pain_diary_baseline_in_range"),
        ]

    def __str__(self) -> str:
        return f"Pain diary of {self.appointment}"

    @property
    def procedure_end(self):
        """The instant the prompts count from: the real end once recorded, else the planned one."""
        return self.procedure_ended_at or self.appointment.procedure_end


class PainEntry(models.Model):
    """The patient's pain at one prompt time of the diary (or at a time of their own)."""

    diary = models.ForeignKey(PainDiary, on_delete=models.CASCADE, related_name="entries",
                              verbose_name=_("pain diary"))
    pain = models.PositiveSmallIntegerField(_("pain (0-10)"), validators=[MaxValueValidator(10)])
    prompt_minutes = models.PositiveSmallIntegerField(
        _("prompt (minutes after the procedure's end)"), null=True, blank=True,
        help_text=_("Empty: the patient's pain at the time they recorded it, outside the prompts."))
    recorded_at = models.DateTimeField(_("recorded"))
    late = models.BooleanField(_("late"), default=False,
                               help_text=_("Recorded well after its prompt time, from memory."))

    class Meta:
        ordering = ["recorded_at"]
        verbose_name = _("pain-diary entry")
        verbose_name_plural = _("pain-diary entries")
        constraints = [
            models.CheckConstraint(condition=models.Q(pain__lte=10), name="pain_entry_in_range"),
            models.UniqueConstraint(fields=["diary", "prompt_minutes"], condition=models.Q(prompt_minutes__isnull=False),
                                    name="pain_entry_one_per_prompt"),
        ]

    def __str__(self) -> str:
        return f"{self.pain}/10"
