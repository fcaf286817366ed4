"""API throttles: per token or signed-in user (API_USER_RATE), and per address for requests with
neither (API_ANON_RATE), the address read as the rest of Interval reads it.

DRF's own throttles keep a list of request times in the cache and write it back after reading
it: requests that overlap (several web processes, threads) each read the same list and the last
write wins, so a client sending in parallel gets far past its rate. These count in a fixed
window with the cache's atomic increment (Redis INCR when CACHE_URL is Redis), which overlapping
requests cannot lose.
"""

from __future__ import annotations

import math

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from clinic.addresses import client_address


class WindowCountMixin:
    """`allow_request` for a SimpleRateThrottle, counting in the rate's current window."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        key = f"{self.key}:{window}"
        if hasattr(self.cache, "count"):  # Redis (clinic/redis_cache.py): one round trip
            count = self.cache.count(key, self.duration + 1)
        else:
            self.cache.add(key, 0, self.duration + 1)
            try:
                count = self.cache.incr(key)
            except ValueError:  # the window's count expired between add and incr
                self.cache.add(key, 1, self.duration + 1)
                count = 1
        self.retry_after = (window + 1) * self.duration - now
        return count <= self.num_requests

    def wait(self) -> float:
        return math.ceil(self.retry_after)


class PerUserThrottle(WindowCountMixin, UserRateThrottle):
    def get_ident(self, request) -> str:
        return client_address(request)


class PerAddressThrottle(WindowCountMixin, AnonRateThrottle):
    def get_ident(self, request) -> str:
        return client_address(request)
