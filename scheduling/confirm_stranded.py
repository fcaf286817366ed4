"""The admin asks before it saves a change of plans that would strand booked visits.

A closure, time off, a room out of service, a credential removed or a schedule block changed
can make booked visits impossible. The mixin tries the change (add, edit, delete, inlines
included, and the list's "Delete selected" action) inside a savepoint, asks `stranded_visits` which visits in the change's reach are
stranded with it and were not without it, and rolls it back. None: the change is saved at once.
Some: a page lists them and re-posts the same form with a confirmation, or goes back. The
confirmed change is tried again before it is saved: a visit booked since the page was shown is
listed first. Once saved, the stranded visits' page offers to move or cancel them.
"""

from __future__ import annotations

from django.contrib.admin.actions import delete_selected as stock_delete_selected
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import ngettext

from scheduling.models import Appointment
from scheduling.stranded import StrandedVisit, attention_count_clear, stranded_visits

CONFIRMED = "_stranded_confirmed"
STRANDED_IDS = "_stranded_visits"
NOTHING = Q(pk__in=[])


class StrandedConfirmMixin:
    """For the admins of what booked visits depend on. Each says, by `stranded_scope`, which
    visits an object can touch; the scope of the object before and after the change is checked."""

    stranded_confirm_template = "admin/stranded_confirm.html"

    def stranded_scope(self, obj) -> Q:
        raise NotImplementedError

    # The trial save must leave no trace: no "was changed successfully" for a change undone.
    def message_user(self, request, *args, **kwargs):
        if not getattr(request, "_stranded_trial", False):
            super().message_user(request, *args, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        request._stranded_saved = obj

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        def save():
            return super(StrandedConfirmMixin, self).changeform_view(request, object_id, form_url, extra_context)

        before = self.get_object(request, unquote(object_id)) if object_id else None
        return self._with_confirmation(request, save, before)

    def delete_view(self, request, object_id, extra_context=None):
        def delete():
            return super(StrandedConfirmMixin, self).delete_view(request, object_id, extra_context)

        return self._with_confirmation(request, delete, self.get_object(request, unquote(object_id)))

    def get_actions(self, request):
        """The stock "Delete selected" replaced by one that asks first, as deleting one does."""
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            actions["delete_selected"] = (StrandedConfirmMixin.delete_selected_asking, "delete_selected",
                                          actions["delete_selected"][2])
        return actions

    @staticmethod
    def delete_selected_asking(modeladmin, request, queryset):
        """The stock action (its "Are you sure?" page, then the deletion), except that when
        the deletion would strand booked visits, those are listed before anything is deleted,
        and once deleted anyway the visits' page offers to move or cancel them."""
        if not request.POST.get("post"):  # the stock page that asks "Are you sure?"
            return stock_delete_selected(modeladmin, request, queryset)
        stranded = modeladmin._stranded_by_deleting(queryset)
        if _not_yet_seen(request, stranded):
            return modeladmin._confirmation(request, stranded)
        response = stock_delete_selected(modeladmin, request, queryset)  # None once deleted
        attention_count_clear()
        ids = [item.appointment.pk for item in stranded]
        if response is None and ids:
            modeladmin.message_user(request, ngettext(
                "Deleted. %(count)d visit needs a new time or cancelling.",
                "Deleted. %(count)d visits need a new time or cancelling.", len(ids)) % {"count": len(ids)})
            return HttpResponseRedirect(reverse("board:attention") + "?" + urlencode({"visits": ",".join(map(str, ids))}))
        return response

    def _stranded_by_deleting(self, queryset) -> list[StrandedVisit]:
        """The visits deleting `queryset` would strand that were not stranded already; nothing
        is deleted."""
        objects = list(queryset)
        scope = NOTHING
        for obj in objects:
            scope |= self.stranded_scope(obj)
        now = timezone.now()
        visits = Appointment.objects.filter(scope)
        already = {item.appointment.pk for item in stranded_visits(now=now, visits=visits)}
        try:
            with transaction.atomic():
                queryset.model.objects.filter(pk__in=[obj.pk for obj in objects]).delete()
                after = stranded_visits(now=now, visits=visits)
                transaction.set_rollback(True)
        except (ProtectedError, RestrictedError):
            return []  # nothing can be deleted: the stock action says why
        return [item for item in after if item.appointment.pk not in already]

    def _with_confirmation(self, request, change, before):
        if request.method != "POST":
            return change()
        # Tried again when confirmed too: a visit booked since the list was shown is listed first.
        stranded, response = self._try(request, change, before)
        if stranded is None:  # the form did not validate: nothing was saved
            return response
        if _not_yet_seen(request, stranded):
            return self._confirmation(request, stranded)
        response = change()
        attention_count_clear()  # it may have resolved some
        ids = [item.appointment.pk for item in stranded]
        if _saved(response) and ids:
            self.message_user(request, ngettext(
                "Saved. %(count)d visit needs a new time or cancelling.",
                "Saved. %(count)d visits need a new time or cancelling.", len(ids)) % {"count": len(ids)})
            return HttpResponseRedirect(
                reverse("board:attention") + "?" + urlencode({"visits": ",".join(map(str, ids))}))
        return response

    def _try(self, request, change, before) -> tuple[list[StrandedVisit] | None, object]:
        """The visits the change strands (None when it was not saved), with the change undone."""
        now = timezone.now()
        scope = self.stranded_scope(before) if before is not None else NOTHING
        request._stranded_trial, request._stranded_saved = True, None
        try:
            with transaction.atomic():
                response = change()
                if not _saved(response):
                    transaction.set_rollback(True)
                    return None, response
                if request._stranded_saved is not None:
                    scope |= self.stranded_scope(request._stranded_saved)
                after = stranded_visits(now=now, visits=Appointment.objects.filter(scope))
                transaction.set_rollback(True)
        finally:
            request._stranded_trial = False
        if not after:
            return [], response
        # Visits stranded before the change are not its doing (only those stranded after can be).
        before_change = Appointment.objects.filter(pk__in=[item.appointment.pk for item in after])
        already = {item.appointment.pk for item in stranded_visits(now=now, visits=before_change)}
        return [item for item in after if item.appointment.pk not in already], response

    def _confirmation(self, request, stranded: list[StrandedVisit]):
        count = len(stranded)
        fields = [(name, value) for name, values in request.POST.lists()
                  if name not in ("csrfmiddlewaretoken", CONFIRMED, STRANDED_IDS) for value in values]
        return TemplateResponse(request, self.stranded_confirm_template, {
            **self.admin_site.each_context(request),
            "title": ngettext("This visit would be stranded", "These %(count)d visits would be stranded",
                              count) % {"count": count},
            "opts": self.opts,
            "rows": stranded_rows(stranded),
            "fields": fields,
            "confirmed_name": CONFIRMED,
            "ids_name": STRANDED_IDS,
            "ids": ",".join(str(item.appointment.pk) for item in stranded),
            "back_url": request.get_full_path(),
            "changed": CONFIRMED in request.POST,  # shown before, and more since
        })


def stranded_rows(stranded: list[StrandedVisit]) -> list[dict]:
    """What a list of stranded visits shows of each, its times in its location's zone."""
    rows = []
    for item in stranded:
        appointment = item.appointment
        zone = appointment.location.zone
        start, arrival = appointment.procedure_start.astimezone(zone), appointment.arrival.astimezone(zone)
        rows.append({
            "appointment": appointment,
            "when": f"{start:%a %d %b %Y %H:%M %Z}",
            "day": f"{start:%a %d %b %Y}",
            "time": f"{start:%H:%M %Z}",
            "arrival": f"{arrival:%H:%M}",
            "reasons": item.reasons,
            "change_url": reverse("admin:scheduling_appointment_change", args=[appointment.pk]),
        })
    return rows


def _not_yet_seen(request, stranded: list[StrandedVisit]) -> bool:
    """Whether the change strands a visit the confirmation the user saw did not list (or there
    was none): then they are shown the list as it is now, and nothing is saved."""
    seen = ({int(pk) for pk in request.POST.get(STRANDED_IDS, "").split(",") if pk.isdigit()}
            if CONFIRMED in request.POST else set())
    return bool({item.appointment.pk for item in stranded} - seen)


def _saved(response) -> bool:
    """The admin answers a save or a delete that went through with a redirect."""
    return isinstance(response, HttpResponseRedirect)


__all__ = ["StrandedConfirmMixin", "stranded_rows"]
