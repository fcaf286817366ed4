"""The Redis cache keeps one redis-py client per connection pool (clinic/redis_cache.py), and
works as Django's does: the throttles' counts, the catalog's version."""

from __future__ import annotations

import threading
import uuid

from clinic.redis_cache import RedisCache


def test_one_client_serves_every_call_and_thread(redis_url):
    cache = RedisCache(redis_url, {"KEY_PREFIX": f"cache-test-{uuid.uuid4().hex}"})
    clients = {id(cache._cache.get_client(None)) for _ in range(3)}
    assert len(clients) == 1

    assert cache.add("count", 0, 60)
    assert not cache.add("count", 5, 60)
    threads = [threading.Thread(target=lambda: [cache.incr("count") for _ in range(50)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert cache.get("count") == 200
    cache.set("version", "abc", None)
    assert cache.get("version") == "abc"
    cache.delete_many(["count", "version"])
    assert cache.get("count") is None


def test_a_count_starts_at_one_and_expires(redis_url):
    cache = RedisCache(redis_url, {"KEY_PREFIX": f"cache-test-{uuid.uuid4().hex}"})
    assert [cache.count("window", 5) for _ in range(3)] == [1, 2, 3]
    assert cache.get("window") == 3
    key = cache.make_and_validate_key("window")
    assert 0 < cache._cache.get_client(key).ttl(key) <= 5
    cache.delete("window")
    assert cache.count("window", 5) == 1
