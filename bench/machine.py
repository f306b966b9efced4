"""The machine a run came from: CPU, cores, memory, Python, PostgreSQL and Temporal versions."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import psutil


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def temporal_cli_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30,
                             check=False).stdout
    except OSError:
        return "unknown"
    return out.strip().removeprefix("temporal version ")


def describe(postgres: str, temporal_cli: str) -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": postgres,
        "temporal_server": "",  # filled in by the first section that reaches one
        "temporal_cli": temporal_cli,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
