"""The Temporal dev server for a laptop or a demo: SQLite under the data folder (histories
survive a restart), the Web UI, kyoso's search attributes registered.

A server this module started is remembered in a pid file, so a second run reuses it; a port
held by anything else is reported in one line instead of a stack trace.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.binaries import temporal_cli

_TYPES = {"KEYWORD": "Keyword", "INT": "Int", "DATETIME": "Datetime", "TEXT": "Text",
          "BOOL": "Bool", "DOUBLE": "Double", "KEYWORD_LIST": "KeywordList"}


class PortInUse(RuntimeError):
    pass


@dataclass(frozen=True)
class DevServer:
    address: str
    ui_url: str
    pid: int | None
    started_here: bool


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def _pid_file(data_dir: Path) -> Path:
    return data_dir / "temporal" / "dev-server.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def recorded_pid(data_dir: Path) -> int | None:
    try:
        pid = int(_pid_file(data_dir).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def command(data_dir: Path, port: int, ui_port: int) -> list[str]:
    from workflows.search_attributes import ALL

    cmd = [temporal_cli(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
           "--ui-port", str(ui_port), "--db-filename", str(data_dir / "temporal" / "dev.sqlite"),
           "--log-level", "warn", "--ui-disable-news-fetch"]
    for key in ALL:
        cmd += ["--search-attribute", f"{key.name}={_TYPES[key.indexed_value_type.name]}"]
    return cmd


async def ensure(data_dir: Path, port: int = 7233, ui_port: int = 8233,
                 startup_timeout: float = 60.0) -> DevServer:
    """Reuse the dev server of an earlier run, or start one; raise PortInUse for strangers."""
    address = f"127.0.0.1:{port}"
    ui_url = f"http://127.0.0.1:{ui_port}"
    ours = recorded_pid(data_dir)
    if ours is not None and port_open(port):
        return DevServer(address, ui_url, ours, started_here=False)
    for p, what in ((port, "Temporal"), (ui_port, "the Temporal Web UI")):
        if port_open(p):
            raise PortInUse(
                f"port {p} (for {what}) is already in use by another program; stop it, or "
                f"choose other ports with KYOSO_TEMPORAL_PORT / KYOSO_UI_PORT")
    (data_dir / "temporal").mkdir(parents=True, exist_ok=True)
    log = (data_dir / "temporal" / "dev-server.log").open("ab")
    # Popen, not asyncio: the server must outlive this event loop (and this process).
    proc = subprocess.Popen(  # noqa: ASYNC220
        command(data_dir, port, ui_port), stdout=log, stderr=log,
        stdin=subprocess.DEVNULL, start_new_session=True)
    _pid_file(data_dir).write_text(str(proc.pid))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + startup_timeout
    while not port_open(port):
        if proc.poll() is not None:
            tail = (data_dir / "temporal" / "dev-server.log").read_text(errors="replace")[-800:]
            raise RuntimeError(f"the Temporal dev server exited at start:\n{tail}")
        if loop.time() > deadline:
            proc.terminate()
            raise RuntimeError(f"the Temporal dev server did not open port {port} in time")
        await asyncio.sleep(0.2)
    return DevServer(address, ui_url, proc.pid, started_here=True)


def stop(data_dir: Path) -> bool:
    """Stop the dev server recorded in the data folder; True if one was running."""
    pid = recorded_pid(data_dir)
    _pid_file(data_dir).unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        os.kill(pid, signal.SIGTERM)
    return True
