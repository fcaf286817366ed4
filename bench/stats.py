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


@dataclass(frozen=True)
class Timed:
    """Wall-clock and this process's CPU time of the same calls; CPU time is not stretched by
    waiting for a core, which other work on a shared machine makes wall-clock time do."""

    wall: Timing
    cpu: Timing

    @classmethod
    def joined(cls, parts: list[Timed]) -> Timed:
        return cls(Timing([sample for part in parts for sample in part.wall.samples]),
                   Timing([sample for part in parts for sample in part.cpu.samples]))

    def __str__(self) -> str:
        return f"p50 {self.wall.p50:.1f} ms, p95 {self.wall.p95:.1f} ms (CPU p50 {self.cpu.p50:.1f} ms)"


def repeat(function: Callable[[], Any], *, runs: int, warmup: int = 3,
           prepare: Callable[[], Any] | None = None) -> Timed:
    """`function` timed over `runs` calls after `warmup` untimed ones; `prepare` runs untimed before each."""
    wall, cpu = [], []
    for run in range(warmup + runs):
        if prepare:
            prepare()
        started, cpu_started = time.perf_counter(), time.process_time()
        function()
        if run >= warmup:
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
    return Timed(Timing(wall), Timing(cpu))
