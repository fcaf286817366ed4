"""Shared by the calendar's admin pages."""

from __future__ import annotations


def bound_to_request(form_class, request):
    """The form class with the request passed in: its validation books or orders as the user."""

    class RequestBound(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, request=request, **kwargs)

    return RequestBound
