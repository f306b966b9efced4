"""Worker processes started by the benchmark, and what they cost in memory."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import psutil


@dataclass(frozen=True)
class Memory:
    rss: int  # bytes now
    peak: int | None  # VmHWM, bytes, where the kernel tells


def memory(pid: int) -> Memory:
    proc = psutil.Process(pid)
    rss = int(proc.memory_info().rss)
    peak: int | None = None
    with suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return Memory(rss, peak)


@dataclass(frozen=True)
class WorkerProcess:
    pid: int
    log: Path


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-1500:]


def _append(log: Path) -> BinaryIO:
    log.parent.mkdir(parents=True, exist_ok=True)
    return log.open("ab")


async def _drain(stream: asyncio.StreamReader, log: Path) -> None:
    with _append(log) as out:
        while chunk := await stream.read(65536):
            out.write(chunk)
            out.flush()


@asynccontextmanager
async def worker_process(address: str, namespace: str, log: Path, *, database_url: str | None,
                         queue: str | None = None, floor_queue: str | None = None,
                         profile: Path | None = None, max_cached_workflows: int | None = None,
                         startup_timeout: float = 120.0) -> AsyncIterator[WorkerProcess]:
    """Run `python -m bench.worker_process` until the block ends; its log goes to `log`."""
    args = [sys.executable, "-m", "bench.worker_process", "--address", address,
            "--namespace", namespace]
    for flag, value in (("--database-url", database_url), ("--queue", queue),
                        ("--floor-queue", floor_queue), ("--profile", profile),
                        ("--max-cached-workflows", max_cached_workflows)):
        if value is not None:
            args += [flag, str(value)]
    with _append(log) as err:
        proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                    stderr=err)
    draining: asyncio.Future[None] | None = None
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), startup_timeout)
        if line.strip() != b"ready":
            await proc.wait()
            raise RuntimeError(f"the benchmark worker did not start:\n{_tail(log)}")
        # The SDK's core writes its own log lines to stdout from the thread that processes
        # workflow tasks: an undrained pipe fills and stalls every workflow (seen at ~4,000
        # open proposals). Everything after "ready" goes to the log.
        draining = asyncio.ensure_future(_drain(proc.stdout, log))
        yield WorkerProcess(proc.pid, log)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 120)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if draining is not None:
            await draining
