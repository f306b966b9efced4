"""Read models of the secretariat: one row per proposal, one per member in a rollout.

Both are folds of the log with the domain's own `evolve`, kept in the append's transaction,
and can be rebuilt from the log alone, row for row.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import asyncpg

from domain.events import Event, parse_event
from domain.rollout import MembershipState, evolve_member
from domain.state import ProposalState, evolve

PROPOSAL_COLUMNS = (
    "proposal_id", "version", "stage", "town", "preferred_town", "theme", "title",
    "organisation", "adoption_number", "round", "waiting_for", "due_at", "fingerprint",
    "is_open", "submitted_at", "updated_at", "decided_at", "closed_reason", "state",
)
MEMBER_COLUMNS = (
    "proposal_id", "lgcode", "version", "status", "municipality", "host_town", "due_at",
    "updated_at", "state",
)


def proposal_row(s: ProposalState) -> tuple[Any, ...]:
    assert s.proposal is not None and s.stage is not None
    wait = s.waiting_for()
    return (
        s.proposal_id, s.version, s.stage.value, s.town.value if s.town else None,
        s.proposal.preferred_town.value, s.proposal.theme.value, s.proposal.title,
        s.proposal.proposer.organisation, s.adoption_number, s.round,
        wait.kind.value if wait else None, wait.due_at if wait else None, s.fingerprint,
        s.is_open, s.submitted_at, s.updated_at, s.decided_at, s.closed_reason,
        s.model_dump_json(),
    )


def member_row(s: MembershipState) -> tuple[Any, ...]:
    assert s.municipality is not None and s.status is not None and s.host_town is not None
    due = min((d.due_at for d in s.deadlines), default=None)
    return (
        s.proposal_id, s.lgcode, s.version, s.status.value, s.municipality.label,
        s.host_town.value, due, s.updated_at, s.model_dump_json(),
    )


def _upsert_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    values = ", ".join(f"${i}" + ("::jsonb" if c == "state" else "")
                       for i, c in enumerate(columns, 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")


_UPSERT_PROPOSAL = _upsert_sql("proposals", PROPOSAL_COLUMNS, ("proposal_id",))
_UPSERT_MEMBER = _upsert_sql("rollout_members", MEMBER_COLUMNS, ("proposal_id", "lgcode"))


class ProposalsProjection:
    """Inline projection: the append's writer already holds its stream, so the row it folds
    into cannot change under it."""

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        first = events[0]
        if first.member is None:
            text = await conn.fetchval(
                "SELECT state::text FROM proposals WHERE proposal_id = $1", first.proposal_id)
            state = ProposalState.model_validate_json(text) if text else ProposalState()
            for e in events:
                state = evolve(state, e)
            await conn.execute(_UPSERT_PROPOSAL, *proposal_row(state))
        else:
            text = await conn.fetchval(
                "SELECT state::text FROM rollout_members WHERE proposal_id = $1 AND lgcode = $2",
                first.proposal_id, first.member)
            member = MembershipState.model_validate_json(text) if text else MembershipState()
            for e in events:
                member = evolve_member(member, e)
            await conn.execute(_UPSERT_MEMBER, *member_row(member))


async def rebuild(conn: asyncpg.Connection, batch: int = 5000) -> int:
    """Recompute both read models from the log alone; returns the events read.

    TRUNCATE locks the tables first, so an append that commits meanwhile waits and then
    folds its events onto the rebuilt rows.
    """
    proposals: dict[str, ProposalState] = {}
    members: dict[tuple[str, str], MembershipState] = {}
    count = 0
    async with conn.transaction():
        await conn.execute("TRUNCATE proposals, rollout_members")
        cursor = await conn.cursor("SELECT data::text FROM events ORDER BY position")
        with _cycles_uncollected():
            rows = await cursor.fetch(batch)
            while rows:
                # Ask for the next rows before folding these, and let them in now and then:
                # the server reads and sends them meanwhile, instead of waiting for us.
                ahead = asyncio.ensure_future(cursor.fetch(batch))
                try:
                    for i, row in enumerate(rows):
                        if i % 256 == 0:
                            await asyncio.sleep(0)
                        event: Event = parse_event(row[0])
                        count += 1
                        if event.member is None:
                            pid = event.proposal_id
                            proposals[pid] = evolve(proposals.get(pid) or ProposalState(), event)
                        else:
                            key = (event.proposal_id, event.member)
                            members[key] = evolve_member(members.get(key) or MembershipState(),
                                                         event)
                except BaseException:
                    # Folding failed: let the fetch under way finish, so that the connection
                    # is free for the rollback, then raise what failed.
                    with suppress(Exception):
                        await ahead
                    raise
                rows = await ahead
            proposal_rows = [proposal_row(s) for s in proposals.values()]
            member_rows = [member_row(s) for s in members.values()]
            proposals.clear()  # freed now, before the collector is back to scan them
            members.clear()
        await conn.copy_records_to_table("proposals", columns=PROPOSAL_COLUMNS,
                                         records=proposal_rows)
        await conn.copy_records_to_table("rollout_members", columns=MEMBER_COLUMNS,
                                         records=member_rows)
    return count


@contextmanager
def _cycles_uncollected() -> Iterator[None]:
    """Folding allocates millions of objects, none in a reference cycle: the cyclic garbage
    collector would only rescan the growing dicts of states, over and over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
