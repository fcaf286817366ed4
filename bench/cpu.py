"""Where the machine's CPU went during the load run, read from /proc (Linux).

Three groups: the gunicorn server (master and workers), PostgreSQL (every `postgres` process)
and this process (the 16 load clients). Processes that start and end inside the interval are
missed, which the benchmark avoids by warming the server up first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid -> (command, parent pid, user+system ticks)."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                raw = stat.read()
        except OSError:
            continue  # ended meanwhile
        command = raw[raw.index("(") + 1: raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2:].split()
        found[int(name)] = (command, int(rest[1]), int(rest[11]) + int(rest[12]))
    return found


@dataclass(frozen=True)
class CpuSample:
    busy: int
    total: int
    server: int
    database: int
    clients: int


def sample(server_pid: int) -> CpuSample:
    processes = _processes()
    busy, total = _machine_ticks()
    server = sum(ticks for pid, (_, parent, ticks) in processes.items() if server_pid in (pid, parent))
    database = sum(ticks for command, _, ticks in processes.values() if command == "postgres")
    clients = processes.get(os.getpid(), ("", 0, 0))[2]
    return CpuSample(busy, total, server, database, clients)


@dataclass(frozen=True)
class CpuShare:
    """Percent of all CPUs over the interval (100 = every core busy the whole time)."""

    machine: float
    server: float
    database: float
    clients: float
    cores: int


def between(before: CpuSample, after: CpuSample, *, seconds: float) -> CpuShare:
    cores = os.cpu_count() or 1
    capacity = seconds * _TICKS * cores

    def share(ticks: int) -> float:
        return 100 * ticks / capacity if capacity else 0.0

    machine = 100 * (after.busy - before.busy) / max(1, after.total - before.total)
    return CpuShare(machine=machine, server=share(after.server - before.server),
                    database=share(after.database - before.database), clients=share(after.clients - before.clients),
                    cores=cores)
