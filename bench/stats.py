"""Percentiles and repeated timings."""

from __future__ import annotations

import cProfile
import math
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `fraction` of samples at or below it."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


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

    @property
    def runs(self) -> int:
        return len(self.samples)


def repeat(function: Callable[[], Any], *, runs: int, warmup: int = 3) -> tuple[Timing, Any]:
    """Call `function` `warmup` times untimed, then `runs` times timed; the timing and the last result."""
    result = None
    for _ in range(warmup):
        result = function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(samples), result


@dataclass(frozen=True)
class ProfileLine:
    function: str
    calls: int  # per run
    own_ms: float  # per run, without callees
    total_ms: float  # per run, with callees


PROJECT_DIR = Path(__file__).resolve().parent.parent


def profile(function: Callable[[], Any], *, runs: int, top: int = 10, project_only: bool = False) -> list[ProfileLine]:
    """Where `runs` calls of `function` spend their time, by function: every function by its own
    time, or (`project_only`) the project's own functions by their time with callees."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        function()
    profiler.disable()
    entries = pstats.Stats(profiler).stats.items()
    if project_only:
        project = str(PROJECT_DIR) + "/"
        entries = [(key, value) for key, value in entries
                   if key[0].startswith(project) and not key[0].startswith((project + ".venv", project + "bench"))]
    column = 3 if project_only else 2
    lines = []
    for (filename, line, name), (_, calls, own, total, _) in sorted(entries, key=lambda item: -item[1][column])[:top]:
        where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        label = name if filename == "~" else f"{where}:{line} {name}"
        lines.append(ProfileLine(label, calls // runs, own * 1000 / runs, total * 1000 / runs))
    return lines
