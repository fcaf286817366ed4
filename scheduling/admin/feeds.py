"""Calendar feeds in the admin: each one's address, ready to copy, and a button that changes it
after a confirmation page saying what that breaks.

The manager sees every feed (and makes or deletes them); a physician sees and changes only their
own (clinic/roles.py); nobody else sees any.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from scheduling.feeds.tokens import feed_url, webcal_url
from scheduling.models import CalendarFeed
from scheduling.services.feeds import calendar_feed_open, calendar_feed_rotate

SEES_EVERY_FEED = "scheduling.view_every_calendarfeed"


def may_see_feed(user, feed: CalendarFeed) -> bool:
    return user.has_perm(SEES_EVERY_FEED) or (feed.physician_id is not None and feed.physician.user_id == user.pk)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    change_form_template = "admin/scheduling/calendarfeed/change_form.html"
    list_display = ["__str__", "kind_label", "address", "rotated_at"]
    list_select_related = ["physician__user", "room__location", "location"]
    actions = ["rotate"]
    add_fields = ["physician", "room", "location"]
    change_fields = ["owner_label", "address", "webcal_address", "created_at", "rotated_at", "rotated_by"]

    def get_queryset(self, request):
        feeds = super().get_queryset(request).select_related(*self.list_select_related)
        if request.user.has_perm(SEES_EVERY_FEED):
            return feeds
        return feeds.filter(physician__user=request.user)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (obj is None or may_see_feed(request.user, obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or may_see_feed(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and request.user.has_perm(SEES_EVERY_FEED)

    def get_fields(self, request, obj=None):
        return self.change_fields if obj else self.add_fields

    def get_readonly_fields(self, request, obj=None):
        return self.change_fields if obj else []

    @admin.display(description=_("for"))
    def owner_label(self, feed: CalendarFeed) -> str:
        return f"{feed.kind_label}: {feed.owner}"

    @admin.display(description=_("kind"))
    def kind_label(self, feed: CalendarFeed) -> str:
        return feed.kind_label

    @admin.display(description=_("address"))
    def address(self, feed: CalendarFeed) -> str:
        # A read-only text box: the whole address, ready to select and copy, on any screen's width.
        # Labelled by what it is, not by its scheme: SITE_URL decides that (http:// in development).
        return format_html('<input type="text" readonly class="vLargeTextField calendar-feed-address" value="{}" '
                           'aria-label="{}">', feed_url(feed), _("Feed address"))

    @admin.display(description=_("address for calendar apps (webcal)"))
    def webcal_address(self, feed: CalendarFeed) -> str:
        return format_html('<a href="{}">{}</a><br><input type="text" readonly class="vLargeTextField" value="{}" '
                           'aria-label="{}">', webcal_url(feed), _("Open in the calendar app"), webcal_url(feed),
                           _("Feed address for calendar apps"))

    def get_urls(self):
        return [
            path("<path:object_id>/new-address/", self.admin_site.admin_view(self.new_address_view),
                 name="scheduling_calendarfeed_new_address"),
        ] + super().get_urls()

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on the page is edited: the one change is a new address, confirmed on its own page
        feed = calendar_feed_open(physician=obj.physician, room=obj.room, location=obj.location)
        obj.pk, obj.token, obj.lookup, obj.created_at = feed.pk, feed.token, feed.lookup, feed.created_at
        obj._state.adding = False

    def new_address_view(self, request, object_id):
        """GET says what a new address breaks; the POST from that page changes it."""
        feed = self.get_object(request, unquote(object_id))
        if feed is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, feed):
            raise PermissionDenied
        change_url = reverse("admin:scheduling_calendarfeed_change", args=[feed.pk])
        if request.method == "POST":
            calendar_feed_rotate(feed=feed, by=request.user)
            self.log_change(request, feed, [{"changed": {"fields": [str(_("address"))]}}])
            self.message_user(request, _("The feed has a new address. The old one no longer works: subscribe "
                                         "again with the new one."), messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        return self._confirm_new_addresses(request, [feed], form_action=request.path, hidden=[],
                                           back_url=change_url, back_label=str(feed))

    def _confirm_new_addresses(self, request, feeds, *, form_action, hidden, back_url, back_label=""):
        count = len(feeds)
        context = {
            **self.admin_site.each_context(request), "opts": self.opts,
            "title": ngettext("Change the address of this feed?", "Change the addresses of these %(count)d feeds?",
                              count) % {"count": count},
            "warning": ngettext(
                "The old address stops working at once: every calendar subscribed to it (Google, Apple, Outlook, "
                "on anyone's phone or computer) stops showing the visits until it is subscribed again with the "
                "new address.",
                "The old addresses stop working at once: every calendar subscribed to them (Google, Apple, "
                "Outlook, on anyone's phone or computer) stops showing the visits until it is subscribed again "
                "with the new address.", count),
            "items": [str(feed) for feed in feeds],
            "form_action": form_action, "hidden": hidden,
            "confirm_label": ngettext("Yes, change the address", "Yes, change the addresses", count),
            "back_url": back_url, "back_label": back_label,
        }
        return TemplateResponse(request, "admin/confirm_change.html", context)

    @admin.action(description=_("Change the addresses of the selected feeds…"), permissions=["change"])
    def rotate(self, request, queryset):
        feeds = [feed for feed in queryset if may_see_feed(request.user, feed)]
        if request.POST.get("confirmed") != "1":
            # Django's actions post here again from the confirmation page, with the same selection.
            hidden = [("action", "rotate"), ("confirmed", "1"),
                      *((ACTION_CHECKBOX_NAME, feed.pk) for feed in feeds)]
            return self._confirm_new_addresses(request, feeds, form_action="", hidden=hidden,
                                               back_url=request.get_full_path())
        for feed in feeds:
            calendar_feed_rotate(feed=feed, by=request.user)
        self.message_user(request, ngettext("%(count)d feed address changed; the old one no longer works.",
                                            "%(count)d feed addresses changed; the old ones no longer work.",
                                            len(feeds)) % {"count": len(feeds)}, messages.SUCCESS)
