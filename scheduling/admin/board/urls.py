"""Routes of the staff's day, mounted at /admin/board/ (namespace "board")."""

from scheduling.admin.board import actions, arrivals, attention, checkin, day, exports, sheets

app_name = "board"

urlpatterns = [*day.urlpatterns, *arrivals.urlpatterns, *attention.urlpatterns, *checkin.urlpatterns,
               *actions.urlpatterns, *sheets.urlpatterns, *exports.urlpatterns]
