"""What the secretariat reads: lists, one proposal's timeline, notifications, statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from domain.state import ProposalState

MAX_LIMIT = 1000


@dataclass(frozen=True)
class ProposalRow:
    proposal_id: str
    stage: str
    town: str | None
    preferred_town: str
    theme: str
    title: str
    organisation: str
    adoption_number: int | None
    round: int
    waiting_for: str | None
    due_at: datetime | None
    submitted_at: datetime
    updated_at: datetime
    closed_reason: str | None


_ROW_COLUMNS = ", ".join(ProposalRow.__dataclass_fields__)


async def list_proposals(
    pool: asyncpg.Pool, *, stage: str | None = None, town: str | None = None,
    theme: str | None = None, open_only: bool = False, limit: int = 50, offset: int = 0,
) -> list[ProposalRow]:
    where: list[str] = []
    args: list[object] = []
    for column, value in (("stage", stage), ("town", town), ("theme", theme)):
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if open_only:
        where.append("is_open")
    args += [max(1, min(limit, MAX_LIMIT)), max(0, offset)]
    sql = (f"SELECT {_ROW_COLUMNS} FROM proposals "
           + (f"WHERE {' AND '.join(where)} " if where else "")
           + f"ORDER BY submitted_at DESC, proposal_id LIMIT ${len(args) - 1} OFFSET ${len(args)}")
    return [ProposalRow(**dict(r)) for r in await pool.fetch(sql, *args)]


async def proposal(pool: asyncpg.Pool, proposal_id: str) -> tuple[ProposalRow, ProposalState] | None:
    row = await pool.fetchrow(
        f"SELECT {_ROW_COLUMNS}, state::text AS state FROM proposals WHERE proposal_id = $1",
        proposal_id)
    if row is None:
        return None
    data = dict(row)
    state = ProposalState.model_validate_json(data.pop("state"))
    return ProposalRow(**data), state


async def notifications(pool: asyncpg.Pool, proposal_id: str | None = None, limit: int = 100
                        ) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT id, proposal_id, recipient_role, recipient_id, recipient_address, channel,
                  template, status, attempts, last_error, created_at, sent_at
           FROM outbox WHERE ($1::text IS NULL OR proposal_id = $1)
           ORDER BY id DESC LIMIT $2""",
        proposal_id, max(1, min(limit, MAX_LIMIT)))
    return [dict(r) for r in rows]


async def members(pool: asyncpg.Pool, proposal_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT lgcode, municipality, status, due_at, updated_at FROM rollout_members
           WHERE proposal_id = $1 ORDER BY lgcode""", proposal_id)
    return [dict(r) for r in rows]


async def stats(pool: asyncpg.Pool) -> dict[str, Any]:
    by_stage = await pool.fetch(
        "SELECT coalesce(town, '-') AS town, stage, count(*) AS n FROM proposals "
        "GROUP BY 1, 2 ORDER BY 1, 2")
    adopted = await pool.fetch(
        "SELECT town, count(*) AS n, max(number) AS last FROM adoption_numbers GROUP BY town")
    return {
        "by_town_and_stage": [dict(r) for r in by_stage],
        "adoptions": {r["town"]: {"count": r["n"], "last": r["last"]} for r in adopted},
        "events": await pool.fetchval("SELECT count(*) FROM events"),
        "notifications": await pool.fetchval("SELECT count(*) FROM outbox"),
    }
