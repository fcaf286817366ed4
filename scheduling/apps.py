from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        _announce_catalog_changes()


def _announce_catalog_changes() -> None:
    """Every write to the catalog's rows marks it changed (scheduling/catalog.py)."""
    from django.contrib.auth import get_user_model
    from django.core.signals import request_finished, request_started
    from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

    from clinic.models import (BloodThinner, Capability, Closure, Location, Payer, Physician, ProcedureType, Room,
                               ScheduleBlock)
    from clinic.models.bulk_changes import bulk_changed
    from scheduling import catalog
    from scheduling.models import PathwayRule, ReminderStep, WebhookEndpoint

    # A Capability's deletion removes its rooms' and procedure types' links without m2m_changed.
    for model in (ProcedureType, BloodThinner, Location, Room, Capability, Payer, Physician, ScheduleBlock,
                  Closure, PathwayRule, ReminderStep, WebhookEndpoint):
        uid = f"catalog-{model._meta.label_lower}"
        post_save.connect(catalog.changed, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(catalog.changed, sender=model, dispatch_uid=uid + "-delete")
        bulk_changed.connect(catalog.changed, sender=model, dispatch_uid=uid + "-bulk")
    for relation in (ProcedureType.required_capabilities, ProcedureType.alternative_capabilities, Room.capabilities,
                     Physician.procedure_types, PathwayRule.prerequisite_types):
        m2m_changed.connect(catalog.changed, sender=relation.through,
                            dispatch_uid=f"catalog-{relation.through._meta.label_lower}")
    post_save.connect(_physician_renamed, sender=get_user_model(), dispatch_uid="catalog-user-save")
    post_migrate.connect(_after_migrate, dispatch_uid="catalog-after-migrate")
    # A request works with one catalog throughout. (A task asks on every use: the reminder
    # dispatch runs for most of a minute.)
    request_started.connect(catalog.begin, dispatch_uid="catalog-request-started")
    request_finished.connect(catalog.end, dispatch_uid="catalog-request-finished")


def _physician_renamed(sender, instance, update_fields=None, **kwargs) -> None:
    """A physician's name is the staff user's; a sign-in (which saves only `last_login`) is not a change."""
    from scheduling import catalog

    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    if hasattr(instance, "physician"):
        catalog.changed()


def _after_migrate(**kwargs) -> None:
    """A migration may have changed catalog rows without a signal (historical models send their own)."""
    import logging

    from scheduling import catalog

    try:
        catalog.forget()
    except Exception as error:  # the shared cache down must not fail a migration
        logging.getLogger(__name__).warning("The catalog could not be marked changed after migrating: %s", error)
