"""What an operator reads in the Web UI: search attributes and the current details line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from domain.rollout import MembershipState
    from domain.state import ProposalState
    from domain.values import JST
    from workflows import search_attributes as sa


def _jst(at: datetime | None) -> str:
    return at.astimezone(JST).strftime("%Y-%m-%d %H:%M JST") if at else "-"


def proposal_attributes(s: ProposalState) -> dict[SearchAttributeKey[Any], Any]:
    wait = s.waiting_for()
    return {
        sa.STAGE: s.stage.value if s.stage else None,
        sa.TOWN: s.town.value if s.town else None,
        sa.WAITING_FOR: wait.kind.value if wait else None,
        sa.DEADLINE: wait.due_at if wait else None,
        sa.ADOPTION_NUMBER: s.adoption_number,
    }


def member_attributes(s: MembershipState) -> dict[SearchAttributeKey[Any], Any]:
    due = min((d.due_at for d in s.deadlines), default=None)
    return {
        sa.STAGE: s.status.value if s.status else None,
        sa.DEADLINE: due,
        sa.WAITING_FOR: s.deadlines[0].kind.value if s.deadlines else None,
    }


def proposal_details(s: ProposalState) -> str:
    stage = s.stage.value if s.stage else "starting"
    lines = [f"**{s.proposal_id}** · stage **{stage}**"
             + (f" · {s.town.label}, round {s.round}" if s.town else "")
             + (f" · 採択No.{s.adoption_number}" if s.adoption_number else "")]
    wait = s.waiting_for()
    if wait is not None:
        line = f"Waiting for {wait.kind.label} until {_jst(wait.due_at)}"
        if wait.remind_at and not wait.reminded:
            line += f" (reminder {_jst(wait.remind_at)})"
        if wait.escalated and wait.expire_at:
            line += f"; escalated, expires {_jst(wait.expire_at)}"
        elif wait.expire_at:
            line += f"; escalation then expiry {_jst(wait.expire_at)}"
        lines.append(line)
    if s.stage is not None and s.stage.value == "in_review":
        lines.append(f"Votes: {len(s.votes)} of {len(s.eligible)} eligible reviewers")
    if s.pilot is not None and s.stage is not None and s.stage.value in {"pilot_planned", "pilot"}:
        lines.append(f"Pilot {s.pilot.start_date} → {s.pilot.end_date}, "
                     f"{s.reports_filed} report(s) filed")
    if s.stage is not None and s.stage.value == "rollout":
        lines.append(f"Rollout offered to {s.rollout_members} municipalities; "
                     "waiting for their answers and deployments")
    if s.closed_reason:
        lines.append(f"Closed: {s.closed_reason}")
    return "\n\n".join(lines)


def member_details(s: MembershipState) -> str:
    status = s.status.value if s.status else "starting"
    name = s.municipality.label if s.municipality else s.lgcode
    text = f"**{s.proposal_id}** rollout · {name} ({s.lgcode}) · **{status}**"
    if s.deadlines:
        d = min(s.deadlines, key=lambda d: d.due_at)
        text += f"\n\nWaiting for {d.kind.label} until {_jst(d.due_at)}"
    return text


class Publisher:
    """Upserts only the search attributes that changed, to keep histories short."""

    def __init__(self) -> None:
        self._last: dict[str, Any] = {}
        self._details = ""

    def publish(self, values: dict[SearchAttributeKey[Any], Any], details: str) -> None:
        updates: list[SearchAttributeUpdate[Any]] = []
        for key, value in values.items():
            if self._last.get(key.name, ...) == value:
                continue
            self._last[key.name] = value
            updates.append(key.value_unset() if value is None else key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)
        if details != self._details:
            self._details = details
            workflow.set_current_details(details)
