"""Calendar feeds in the admin: each one's address, ready to copy, and a button that changes it.

The manager sees every feed (and makes or deletes them); a physician sees and changes only their
own (clinic/roles.py); nobody else sees any.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

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

    @admin.display(description=_("address (https)"))
    def address(self, feed: CalendarFeed) -> str:
        # A read-only text box: the whole address, ready to select and copy, on any screen's width.
        return format_html('<input type="text" readonly class="vLargeTextField calendar-feed-address" value="{}" '
                           'aria-label="{}">', feed_url(feed), _("Feed address"))

    @admin.display(description=_("subscribe (webcal)"))
    def webcal_address(self, feed: CalendarFeed) -> str:
        return format_html('<a href="{}">{}</a><br><input type="text" readonly class="vLargeTextField" value="{}" '
                           'aria-label="{}">', webcal_url(feed), _("Open in the calendar app"), webcal_url(feed),
                           _("Feed address for calendar apps"))

    def save_model(self, request, obj, form, change):
        if change:
            # Nothing on the page is edited: the one change is a new address, by the service.
            if "_rotate" in request.POST:
                calendar_feed_rotate(feed=obj, by=request.user)
            return
        feed = calendar_feed_open(physician=obj.physician, room=obj.room, location=obj.location)
        obj.pk, obj.token, obj.lookup, obj.created_at = feed.pk, feed.token, feed.lookup, feed.created_at
        obj._state.adding = False

    def response_change(self, request, obj):
        if "_rotate" in request.POST:
            self.message_user(request, _("The feed has a new address. The old one no longer works: subscribe "
                                         "again with the new one."), messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def construct_change_message(self, request, form, formsets, add=False):
        if "_rotate" in request.POST:
            return [{"changed": {"fields": [str(_("address"))]}}]
        return super().construct_change_message(request, form, formsets, add)

    @admin.action(description=_("Change the addresses of the selected feeds"), permissions=["change"])
    def rotate(self, request, queryset):
        feeds = [feed for feed in queryset if may_see_feed(request.user, feed)]
        for feed in feeds:
            calendar_feed_rotate(feed=feed, by=request.user)
        self.message_user(request, _("%(count)d feed addresses changed; the old ones no longer work.")
                          % {"count": len(feeds)}, messages.SUCCESS)
