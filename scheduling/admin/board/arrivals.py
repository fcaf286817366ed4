"""The arrivals pages of the staff's day."""

urlpatterns: list = []
