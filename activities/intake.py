"""Intake checks that need the database: is intake open, is this an exact resubmission."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from activities.contracts import IntakeFindings, IntakeRequest
from activities.records import bound_logger
from eventstore import programme


class IntakeActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name="check_intake")
    async def check_intake(self, req: IntakeRequest) -> IntakeFindings:
        towns = await programme.open_towns(self.pool)
        duplicate = await self.pool.fetchval(
            """SELECT proposal_id FROM proposals
               WHERE fingerprint = $1 AND is_open AND proposal_id <> $2
               ORDER BY submitted_at LIMIT 1""",
            req.fingerprint, req.proposal_id)
        bound_logger(req.proposal_id).info(
            "intake checked", open_towns=[t.value for t in towns], duplicate=duplicate)
        return IntakeFindings(open_towns=towns, duplicate_of=duplicate)
