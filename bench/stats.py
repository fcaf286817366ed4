"""Percentiles and repeated timings."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `fraction` of samples at or below it."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


@dataclass(frozen=True)
class Timing:
    """Durations in milliseconds."""

    samples: list[float]

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 0.99)


def repeat(function: Callable[[], Any], *, runs: int, warmup: int = 3, prepare: Callable[[], Any] | None = None,
           clock: Callable[[], float] = time.perf_counter) -> Timing:
    """`function`'s time on `clock` over `runs` calls after `warmup` untimed ones; `prepare` runs untimed before each."""
    samples = []
    for run in range(warmup + runs):
        if prepare:
            prepare()
        started = clock()
        function()
        if run >= warmup:
            samples.append((clock() - started) * 1000)
    return Timing(samples)
