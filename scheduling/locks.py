"""Row locks taken by booking transactions, always in primary-key order so two transactions
locking the same rows cannot deadlock."""

from __future__ import annotations

from collections.abc import Iterable

from clinic.models import Location


def lock_locations(location_ids: Iterable[int]) -> None:
    """Lock the locations' rows until the transaction ends (a no-op on SQLite, whose write
    transactions are already serialized)."""
    ids = sorted(set(location_ids))
    list(Location.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
