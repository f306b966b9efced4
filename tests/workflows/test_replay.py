"""Recorded histories of the main paths replay against today's workflow code, so that a
change that would break the workflows already running fails here, not in production.

The histories in histories/ are written by the tests of those paths (helpers.save_history)
when KYOSO_RECORD_HISTORIES=1. Regenerate them only for a change that is meant to be
incompatible with running workflows (and then version the workflow), and review the diff:

    KYOSO_RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows/test_lifecycle.py \
        tests/workflows/test_deadlines.py
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.workflows.helpers import HISTORIES
from tests.workflows.tampered import ProposalWorkflowWithAnExtraTimer
from worker import SANDBOX, WORKFLOWS
from workflows.membership import MembershipWorkflow
from workflows.rollout import RolloutBatchWorkflow

MAIN_PATHS = {
    "adopt_pilot_rollout",  # adoption, pilot with a report and an extension, rollout, completion
    "adopt_pilot_rollout_batch",  # a rollout batch of that proposal
    "adopt_pilot_rollout_member",  # a member that joined and deployed
    "reject",
    "revise",  # changes requested, revised, adopted in the second round
    "withdraw",
    "expiry",  # review reminder, escalation, expiry
}
RECORDED = sorted(HISTORIES.glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def test_every_main_path_has_a_recorded_history() -> None:
    assert {p.stem for p in RECORDED} >= MAIN_PATHS


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_recorded_history_replays(path: Path) -> None:
    history = load(path)
    assert len(history.events) > 10
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter,
                        workflow_runner=SANDBOX)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None


@pytest.mark.parametrize("name", ["reject", "adopt_pilot_rollout"])
async def test_a_non_deterministic_change_fails_replay(name: str) -> None:
    replayer = Replayer(
        workflows=[ProposalWorkflowWithAnExtraTimer, RolloutBatchWorkflow, MembershipWorkflow],
        data_converter=pydantic_data_converter, workflow_runner=SANDBOX)
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load(HISTORIES / f"{name}.json"))
