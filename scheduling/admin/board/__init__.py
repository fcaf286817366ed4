"""The staff's day at `/admin/board/`: the day board, the arrivals desk, what needs attention.

Each module owns its pages and lists them in its `urlpatterns`; `urls` joins them under the
admin's login and permissions (`admin_site.admin_view`)."""
