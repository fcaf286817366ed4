"""The day pages of the staff's day."""

urlpatterns: list = []
