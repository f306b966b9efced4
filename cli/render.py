"""Printing for the secretariat's command line: tables and timelines, times in JST."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from domain.events import Event
from domain.state import ProposalState
from domain.values import JST
from eventstore.queries import ProposalRow
from eventstore.store import RecordedEvent

# Piped output (files, scripts) gets room for whole event names instead of ellipses.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def jst(at: datetime | None) -> str:
    return at.astimezone(JST).strftime("%Y-%m-%d %H:%M") if at else "-"


def proposals_table(rows: Sequence[ProposalRow]) -> Table:
    table = Table(title=f"{len(rows)} proposal(s)", title_justify="left")
    for col in ("id", "stage", "town", "theme", "No.", "title", "waiting for", "due (JST)"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.proposal_id, r.stage, r.town or "-", r.theme,
                      str(r.adoption_number or ""), r.title[:40], r.waiting_for or "",
                      jst(r.due_at))
    return table


def _what(e: Event) -> str:
    data = e.model_dump(exclude={"event_id", "proposal_id", "member", "sequence",
                                 "occurred_at", "actor", "type"})
    keep = {k: v for k, v in data.items()
            if k in {"town", "round", "reason", "decision", "comment", "adoption_number",
                     "from_town", "to_town", "kind", "number", "stage", "note"} and v is not None}
    if data.get("deadline"):
        keep["due"] = jst(data["deadline"]["due_at"])
    return ", ".join(f"{k}={v}" for k, v in keep.items())


def timeline_table(events: Sequence[RecordedEvent]) -> Table:
    table = Table(title="timeline", title_justify="left")
    for col in ("#", "when (JST)", "stream", "event", "by", "details"):
        table.add_column(col)
    for r in events:
        e = r.event
        table.add_row(str(r.position), jst(e.occurred_at),
                      e.member or "proposal", e.type, f"{e.actor.role.value}:{e.actor.id}",
                      _what(e))
    return table


def state_summary(s: ProposalState) -> str:
    lines = [f"[bold]{s.proposal_id}[/bold]  stage [bold]{s.stage.value if s.stage else '-'}"
             f"[/bold]  town {s.town.value if s.town else '-'}  round {s.round}"]
    if s.proposal:
        lines.append(f"{s.proposal.title} — {s.proposal.proposer.organisation} "
                     f"({s.proposal.theme.value})")
    if s.adoption_number:
        lines.append(f"採択No.{s.adoption_number}")
    for d in sorted(s.deadlines, key=lambda d: d.due_at):
        lines.append(f"waiting for {d.kind.label}: due {jst(d.due_at)}"
                     + (" (escalated)" if d.escalated else ""))
    if s.votes:
        lines.append("votes: " + ", ".join(f"{v.reviewer_id}={v.decision.value}" for v in s.votes))
    if s.closed_reason:
        lines.append(f"closed: {s.closed_reason}")
    return "\n".join(lines)


def notifications_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} notification(s)", title_justify="left")
    for col in ("id", "proposal", "to", "address", "template", "status", "sent (JST)"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), r["proposal_id"], f"{r['recipient_role']}:{r['recipient_id']}",
                      r["recipient_address"] or "-", r["template"], r["status"],
                      jst(r["sent_at"]))
    return table
