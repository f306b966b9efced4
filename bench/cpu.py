"""CPU seconds spent by each process of the system while a phase runs: the worker, the
Temporal dev server, PostgreSQL (postmaster and backends) and the driver (this process)."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress

import psutil


def _cpu(pid: int) -> float:
    with suppress(psutil.Error):
        t = psutil.Process(pid).cpu_times()
        return float(t.user + t.system)
    return 0.0


def postgres_pids(postmaster: int) -> Callable[[], list[int]]:
    """The postmaster and its backends (read afresh at each snapshot)."""
    def pids() -> list[int]:
        try:
            return [postmaster, *(c.pid for c in psutil.Process(postmaster).children())]
        except psutil.Error:
            return []
    return pids


Snapshot = dict[str, dict[int, float]]  # role -> pid -> CPU seconds


class CpuMeter:
    """`snapshot()` CPU seconds per process of each role; `spent` is a phase's cost.

    Per process: one that started meanwhile counts from zero, one that ended meanwhile (an
    autovacuum worker, a closed connection) takes its seconds with it; the pools keep their
    connections for the length of a phase."""

    def __init__(self, roles: dict[str, Callable[[], list[int]]]) -> None:
        self.roles = roles

    def snapshot(self) -> Snapshot:
        return {role: {p: _cpu(p) for p in pids()} for role, pids in self.roles.items()}

    @staticmethod
    def spent(before: Snapshot, after: Snapshot) -> dict[str, float]:
        return {role: sum(max(0.0, t - before.get(role, {}).get(p, 0.0))
                          for p, t in procs.items())
                for role, procs in after.items()}


def meter(worker: int | None, server: int | None, postgres: int | None) -> CpuMeter:
    roles: dict[str, Callable[[], list[int]]] = {"driver": lambda: [os.getpid()]}
    if worker:
        roles["worker"] = lambda: [worker]
    if server:
        roles["dev server"] = lambda: [server]
    if postgres:
        roles["PostgreSQL"] = postgres_pids(postgres)
    return CpuMeter(roles)
