"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's client builds a new `redis.Redis` for every cache call, and redis-py 8's constructor
sets up its whole table of reply parsers each time: a few tenths of a millisecond, several times
a request (throttle counts, the catalog's version). A client is safe to share between threads
(it takes a connection from its pool for each command), so one per pool is kept instead.

`count` adds one to a counter that expires, in one round trip (Django's `add` then `incr` take
three: SET NX, EXISTS, INCRBY)."""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _Client(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _Client

    def count(self, key, timeout: int) -> int:
        """Add one to the counter `key` (0 if absent or expired), keep it `timeout` seconds from
        now, and return the new count: INCR and EXPIRE in one pipeline."""
        key = self.make_and_validate_key(key)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expire(key, self.get_backend_timeout(timeout))
        return pipeline.execute()[0]
