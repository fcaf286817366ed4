"""API throttles: per token or signed-in user (API_USER_RATE), and per address for requests with
neither (API_ANON_RATE), the address read as the rest of Interval reads it."""

from __future__ import annotations

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from clinic.addresses import client_address


class PerUserThrottle(UserRateThrottle):
    def get_ident(self, request) -> str:
        return client_address(request)


class PerAddressThrottle(AnonRateThrottle):
    def get_ident(self, request) -> str:
        return client_address(request)
