"""Writes that Django's post_save and post_delete signals do not see: a queryset's `update()`,
`bulk_create()` and `bulk_update()`. Models whose rows other processes keep in memory (the
catalog, scheduling/catalog.py) use this queryset, so such a write is announced too."""

from __future__ import annotations

from django.db import models
from django.dispatch import Signal

# Sent with sender=the model after a bulk write to its rows.
bulk_changed = Signal()


class AnnouncedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        rows = super().update(**kwargs)
        bulk_changed.send(sender=self.model)
        return rows

    update.alters_data = True

    def bulk_create(self, *args, **kwargs):
        created = super().bulk_create(*args, **kwargs)
        bulk_changed.send(sender=self.model)
        return created

    bulk_create.alters_data = True

    def bulk_update(self, *args, **kwargs):
        rows = super().bulk_update(*args, **kwargs)
        bulk_changed.send(sender=self.model)
        return rows

    bulk_update.alters_data = True
