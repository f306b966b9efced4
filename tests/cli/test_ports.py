"""A newcomer whose ports are taken gets one line, not a stack trace."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import devserver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


async def test_a_port_in_use_is_reported_in_one_line(busy_port: int, tmp_path: Path) -> None:
    with pytest.raises(devserver.PortInUse, match=f"port {busy_port} .* already in use"):
        await devserver.ensure(tmp_path, port=busy_port, ui_port=busy_port + 1)


def test_the_demo_stops_with_one_line_when_its_port_is_taken(busy_port: int, tmp_path: Path,
                                                              db_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "demo", "--no-wait"], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={**os.environ, "KYOSO_TEMPORAL_PORT": str(busy_port),
                          "KYOSO_DATA_DIR": str(tmp_path), "DATABASE_URL": db_url})
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert f"port {busy_port} (for Temporal) is already in use by another program" in result.stdout
