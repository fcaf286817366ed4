"""The demo clinic's visits."""

from __future__ import annotations


def seed_demo_activity(report, *, now) -> None:
    return None
