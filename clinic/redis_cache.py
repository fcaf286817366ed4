"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's client builds a new `redis.Redis` for every cache call, and redis-py 8's constructor
sets up its whole table of reply parsers each time: a few tenths of a millisecond, several times
a request (throttle counts, the catalog's version). A client is safe to share between threads
(it takes a connection from its pool for each command), so one per pool is kept instead."""

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
