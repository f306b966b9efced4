"""Following the README: a worker and the dev server run; the secretariat submits an example
proposal with starter.py, the committee votes it through, `status` shows its events, and an
operator finds it in the Web UI by its stage."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
from temporalio.testing import WorkflowEnvironment

from tests.conftest import dev_address
from worker import build_worker

ROOT = Path(__file__).resolve().parents[2]


async def starter(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, str(ROOT / "starter.py"), *args], cwd=ROOT,
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


async def test_submit_vote_status_list_and_find_in_the_web_ui(
        dev_env: WorkflowEnvironment, pool: asyncpg.Pool, db_url: str) -> None:
    queue = f"cli-{uuid.uuid4().hex[:8]}"
    env = {"TEMPORAL_ADDRESS": dev_address(dev_env), "DATABASE_URL": db_url,
           "KYOSO_TASK_QUEUE": queue}
    async with build_worker(dev_env.client, pool, queue):
        done = await starter(env, "submit", "examples/proposals/yokoze-ondemand-bus.yaml",
                             "--wait")
        assert done.returncode == 0, done.stderr
        match = re.search(r"(P-[0-9A-Z]{10}) submitted: in_review", done.stdout)
        assert match, done.stdout
        pid = match[1]

        for reviewer in ("yokoze-tanaka", "yokoze-suzuki"):
            vote = await starter(env, "vote", pid, "--reviewer", reviewer, "--approve",
                                 "--comment", "Residents need this")
            assert vote.returncode == 0, vote.stderr
            assert "vote_cast → in_review" in vote.stdout
        other_town = await starter(env, "vote", pid, "--reviewer", "bandai-kato", "--approve",
                                   "--comment", "Wrong committee")
        assert "refused: bandai-kato sits on Bandai" in other_town.stderr
        third = await starter(env, "vote", pid, "--reviewer", "yokoze-ito", "--approve",
                              "--comment", "Agreed")
        assert "proposal_adopted → adopted, 採択No.1" in third.stdout

        late = await starter(env, "vote", pid, "--reviewer", "yokoze-watanabe", "--reject",
                             "--comment", "Too late")
        assert late.returncode == 1
        assert late.stderr.strip().endswith(f"voting needs the proposal to be in_review; {pid} is "
                                            "adopted")

        status = await starter(env, "status", pid)
        assert status.returncode == 0, status.stderr
        for event in ("proposal_submitted", "intake_accepted", "review_started", "vote_cast",
                      "proposal_adopted"):
            assert event in status.stdout
        assert "採択No.1" in status.stdout

        listed = await starter(env, "list", "--stage", "adopted")
        assert pid in listed.stdout
        mails = await starter(env, "notifications", pid)
        assert "adopted" in mails.stdout and "review_started" in mails.stdout

        unknown = await starter(env, "vote", "P-0000000000", "--reviewer", "yokoze-ito",
                                "--approve", "--comment", "?")
        assert unknown.stderr.strip().endswith("unknown proposal P-0000000000")

    for _ in range(50):
        found = [w.id async for w in dev_env.client.list_workflows(
            f"KyosoStage = 'adopted' AND KyosoProposalId = '{pid}'")]
        if found:
            break
        await asyncio.sleep(0.2)
    assert found == [f"proposal-{pid}"]
