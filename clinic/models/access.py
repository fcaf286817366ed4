"""Who saw which patient's record, when, from where and on which page: an append-only log.

Rows are only ever added (`clinic.access_log.record_access`); the model refuses to change or
delete one, the admin offers neither, and on PostgreSQL a trigger refuses UPDATE and DELETE.
The user and the patient are kept as plain ids (no foreign-key constraint) so the log outlives
a deleted account or record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    pass


class PatientAccess(models.Model):
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # The user's and the patient's rows are found through the two indexes below, which start
    # with them: the relations need none of their own, and each row written saves two.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                             db_index=False, null=True, related_name="+", verbose_name=_("user"))
    username = models.CharField(_("username"), max_length=150)
    patient = models.ForeignKey("clinic.Patient", on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+", verbose_name=_("patient"))
    address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    what = models.CharField(_("page or endpoint"), max_length=255)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("patient record access")
        verbose_name_plural = _("patient record accesses")
        indexes = [models.Index(fields=["patient", "at"], name="access_patient_at"),
                   models.Index(fields=["user", "at"], name="access_user_at")]

    def __str__(self) -> str:
        return f"{self.username} · {self.what}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("The access log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("The access log is append-only.")
