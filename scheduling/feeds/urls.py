from django.urls import path

from scheduling.feeds.views import calendar_feed

urlpatterns = [
    path("<str:token>.ics", calendar_feed, name="calendar-feed"),
]
