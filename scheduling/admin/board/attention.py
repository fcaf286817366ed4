"""The attention pages of the staff's day."""

urlpatterns: list = []
