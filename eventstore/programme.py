"""The secretariat's programme settings: intake paused or open per town, network members.

Every change is written to programme_log in the same transaction, for the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from domain.network import Municipality
from domain.values import Town


@dataclass(frozen=True)
class IntakeStatus:
    town: Town
    paused: bool
    reason: str | None
    changed_at: datetime
    changed_by: str


async def intake_status(pool: asyncpg.Pool) -> list[IntakeStatus]:
    rows = await pool.fetch("SELECT * FROM intake_status ORDER BY town")
    return [IntakeStatus(Town(r["town"]), r["paused"], r["reason"], r["changed_at"],
                         r["changed_by"]) for r in rows]


async def open_towns(pool: asyncpg.Pool) -> list[Town]:
    return [s.town for s in await intake_status(pool) if not s.paused]


async def set_intake(pool: asyncpg.Pool, town: Town, *, paused: bool, reason: str | None,
                     actor: str) -> None:
    async with pool.acquire() as c, c.transaction():
        await c.execute(
            """UPDATE intake_status SET paused = $2, reason = $3, changed_at = now(),
                                        changed_by = $4 WHERE town = $1""",
            town.value, paused, reason, actor)
        await c.execute(
            "INSERT INTO programme_log (action, subject, detail, actor) VALUES ($1, $2, $3, $4)",
            "pause_intake" if paused else "resume_intake", town.value, reason, actor)


async def add_members(pool: asyncpg.Pool, members: list[Municipality], actor: str) -> int:
    """Add municipalities to the network; returns how many were new."""
    async with pool.acquire() as c, c.transaction():
        added = await c.fetch(
            """INSERT INTO network_members (lgcode, name, prefecture, contact_email)
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
               ON CONFLICT (lgcode) DO NOTHING RETURNING lgcode""",
            [m.lgcode for m in members], [m.name for m in members],
            [m.prefecture for m in members], [m.contact_email for m in members])
        if added:
            await c.execute(
                "INSERT INTO programme_log (action, subject, detail, actor) VALUES ($1,$2,$3,$4)",
                "add_members", f"{len(added)} municipalities",
                ",".join(r["lgcode"] for r in added[:50]), actor)
        return len(added)


async def members(pool: asyncpg.Pool) -> list[Municipality]:
    rows = await pool.fetch(
        "SELECT lgcode, name, prefecture, contact_email FROM network_members ORDER BY lgcode")
    return [Municipality(lgcode=r["lgcode"], name=r["name"], prefecture=r["prefecture"],
                         contact_email=r["contact_email"]) for r in rows]
