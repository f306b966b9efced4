"""Workflow ids, derived from the proposal id so every tool can find a proposal's workflows."""

from __future__ import annotations


def proposal_workflow_id(proposal_id: str) -> str:
    return f"proposal-{proposal_id}"


def batch_workflow_id(proposal_id: str, batch: int) -> str:
    return f"proposal-{proposal_id}-rollout-{batch:03d}"


def member_workflow_id(proposal_id: str, lgcode: str) -> str:
    return f"proposal-{proposal_id}-member-{lgcode}"
