"""worker.py as operators run it: migrations, JSON logs with the ids bound and no personal
data, and a graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain.people import Actor
from domain.values import Role
from infra.files import load_policies
from tests.conftest import dev_address
from tests.factories import proposal
from workflows.client import start_proposal
from workflows.proposal import ProposalWorkflow

ROOT = Path(__file__).resolve().parents[2]


async def _wait_for_line(proc: subprocess.Popen[str], needle: str, lines: list[str]) -> None:
    assert proc.stderr is not None
    while True:
        line = await asyncio.to_thread(proc.stderr.readline)
        if not line:
            raise AssertionError(f"worker exited before logging {needle!r}: {lines[-5:]}")
        lines.append(line)
        if needle in line:
            return


async def test_worker_logs_json_with_ids_and_stops_gracefully(
        dev_env: WorkflowEnvironment, db_url: str, pool: asyncpg.Pool) -> None:
    queue = f"proc-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TEMPORAL_ADDRESS": dev_address(dev_env), "DATABASE_URL": db_url,
           "KYOSO_TASK_QUEUE": queue, "KYOSO_LOG_FORMAT": "json"}
    proc = subprocess.Popen(  # noqa: ASYNC220 - read line by line from a thread below
        [sys.executable, str(ROOT / "worker.py")], cwd=ROOT, env=env,
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    try:
        await asyncio.wait_for(_wait_for_line(proc, "worker started", lines), 60)
        prop = proposal()
        handle = await start_proposal(dev_env.client, prop, load_policies(None), task_queue=queue,
                                      submitted_by=Actor(role=Role.SECRETARIAT, id="office"))
        for _ in range(100):
            state = await handle.query(ProposalWorkflow.current_state)
            if state.stage is not None and state.stage.value == "in_review":
                break
            await asyncio.sleep(0.1)
        await asyncio.wait_for(_wait_for_line(proc, "notification", lines), 30)
        proc.send_signal(signal.SIGTERM)
        rest = await asyncio.to_thread(proc.communicate, timeout=60)
        lines += rest[1].splitlines(keepends=True)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == len([line for line in lines if line.strip()]), "every line is JSON"
    events = [r["event"] for r in records]
    assert "worker started" in events and "worker stopped" in events
    recorded = [r for r in records if r["event"] == "events recorded"]
    assert recorded
    pid = handle.id.removeprefix("proposal-")
    for r in recorded:
        assert r["proposal_id"] == pid and r["workflow_id"] == handle.id and r["run_id"]
    text = "".join(lines)
    contact = prop.proposer.contact
    for personal in (contact.email, contact.name, prop.proposer.organisation):
        assert personal not in text
    assert await pool.fetchval("SELECT count(*) FROM schema_migrations") >= 4
