"""The PostgreSQL event store: append with optimistic concurrency, idempotent retries,
gap-free adoption numbers, an outbox and inline projections, all in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

from domain.events import Event, ProposalAdopted, parse_event
from domain.notifications import Notification
from eventstore.errors import ConcurrencyError, IdempotencyConflict


@dataclass(frozen=True)
class RecordedEvent:
    position: int
    stream_id: str
    version: int
    recorded_at: datetime
    event: Event


@dataclass(frozen=True)
class AppendResult:
    stream_id: str
    version: int
    positions: tuple[int, ...]
    adoption_number: int | None = None
    replayed: bool = False  # the very same events were already recorded: nothing was written


class Projector(Protocol):
    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None: ...


# Held from taking positions until commit: positions become visible in increasing order.
POSITION_LOCK = 0x6B796F736F01


def content_hash(event: Event) -> bytes:
    return hashlib.sha256(event.model_dump_json().encode()).digest()


def _check_batch(stream_id: str, expected_version: int, events: Sequence[Event]) -> None:
    if not events:
        raise ValueError("nothing to append")
    for i, e in enumerate(events):
        if e.stream_id != stream_id:
            raise ValueError(f"event {e.event_id} belongs to {e.stream_id}, not {stream_id}")
        if e.sequence != expected_version + i + 1:
            raise ValueError(
                f"event {e.event_id} has sequence {e.sequence}; expected {expected_version + i + 1}"
            )


_EVENT_COLUMNS = "position, stream_id, version, recorded_at, data::text AS data"


def _recorded(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(
        position=row["position"], stream_id=row["stream_id"], version=row["version"],
        recorded_at=row["recorded_at"], event=parse_event(row["data"]),
    )


class EventStore:
    def __init__(self, pool: asyncpg.Pool, projectors: Sequence[Projector] = ()) -> None:
        self.pool = pool
        self.projectors = tuple(projectors)

    @asynccontextmanager
    async def _connection(self, conn: asyncpg.Connection | None
                          ) -> AsyncIterator[asyncpg.Connection]:
        if conn is not None:
            yield conn
        else:
            async with self.pool.acquire() as acquired:
                yield acquired

    # -- writing -----------------------------------------------------------------------------

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        notifications: Sequence[Notification] = (),
        conn: asyncpg.Connection | None = None,
    ) -> AppendResult:
        """Append `events` to `stream_id` if it is still at `expected_version`.

        Re-appending the very same events (same ids and content) returns the original result
        and writes nothing. Given `conn`, the append joins the caller's transaction.
        """
        _check_batch(stream_id, expected_version, events)
        async with self._connection(conn) as c:
            try:
                async with c.transaction():
                    if conn is not None:
                        # In the caller's transaction a failed write cannot be looked past:
                        # recognise a replay before writing.
                        replay = await self._already_recorded(c, stream_id, events)
                        if replay is not None:
                            return replay
                    return await self._write(c, stream_id, expected_version, events,
                                             notifications)
            except (ConcurrencyError, asyncpg.UniqueViolationError):
                # These very events may be recorded already (a retried activity, or one racing
                # its first attempt): that is success, not a conflict. A recorded event always
                # fails the write (its stream moved past `expected_version`, or its id is
                # taken), so looking only after a failure finds every replay, and spares the
                # common case a round trip.
                if conn is None:
                    replay = await self._already_recorded(c, stream_id, events)
                    if replay is not None:
                        return replay
                raise

    async def _already_recorded(
        self, c: asyncpg.Connection, stream_id: str, events: Sequence[Event]
    ) -> AppendResult | None:
        rows = await c.fetch(
            """SELECT event_id, stream_id, version, position, content_hash,
                      (data->>'adoption_number')::int AS adoption_number
               FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY position""",
            [e.event_id for e in events],
        )
        if not rows:
            return None
        by_id = {r["event_id"]: r for r in rows}
        same = len(rows) == len(events) and all(
            (r := by_id.get(e.event_id)) is not None
            and r["stream_id"] == stream_id
            and r["version"] == e.sequence
            and bytes(r["content_hash"]) == content_hash(e)
            for e in events
        )
        if not same:
            raise IdempotencyConflict(
                f"events {', '.join(str(r['event_id']) for r in rows[:3])} were already "
                f"recorded with other content; stream {stream_id}"
            )
        numbers = [r["adoption_number"] for r in rows if r["adoption_number"] is not None]
        return AppendResult(
            stream_id=stream_id, version=events[-1].sequence,
            positions=tuple(by_id[e.event_id]["position"] for e in events),
            adoption_number=numbers[0] if numbers else None, replayed=True,
        )

    async def _write(
        self,
        c: asyncpg.Connection,
        stream_id: str,
        expected: int,
        events: Sequence[Event],
        notifications: Sequence[Notification],
    ) -> AppendResult:
        new_version = expected + len(events)
        if expected == 0:
            moved = await c.fetchval(
                """INSERT INTO streams (stream_id, proposal_id, version) VALUES ($1, $2, $3)
                   ON CONFLICT (stream_id) DO NOTHING RETURNING 1""",
                stream_id, events[0].proposal_id, new_version,
            )
        else:
            moved = await c.fetchval(
                """UPDATE streams SET version = $3, updated_at = now()
                   WHERE stream_id = $1 AND version = $2 RETURNING 1""",
                stream_id, expected, new_version,
            )
        if moved is None:
            actual = await c.fetchval("SELECT version FROM streams WHERE stream_id = $1",
                                      stream_id)
            raise ConcurrencyError(stream_id, expected, actual or 0)

        stored, adoption_number = await self._allocate_numbers(c, events)
        if notifications:
            await self._enqueue(c, notifications, stored)
        for projector in self.projectors:
            await projector.apply(c, stored)
        data = [e.model_dump_json() for e in stored]
        # The hash is of the event as the writer sent it: the same JSON unless a number was
        # allocated into it.
        hashes = [hashlib.sha256((d if s is e else e.model_dump_json()).encode()).digest()
                  for d, s, e in zip(data, stored, events, strict=True)]
        # Last, so that the lock is held only for the insert and the commit. The lock is taken
        # in the statement that takes the positions, before any: `nextval` is evaluated above
        # the sort, which reads every row of the join with `position_lock` first.
        rows = await c.fetch(
            """WITH position_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($9))
               INSERT INTO events (event_id, stream_id, proposal_id, version, type, data,
                                   content_hash, occurred_at)
               SELECT u.event_id, $1, u.proposal_id, u.version, u.type, u.data::jsonb,
                      u.content_hash, u.occurred_at
               FROM unnest($2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[],
                           $7::bytea[], $8::timestamptz[])
                    AS u(event_id, proposal_id, version, type, data, content_hash, occurred_at),
                    position_lock
               ORDER BY u.version
               RETURNING position""",
            stream_id,
            [e.event_id for e in stored],
            [e.proposal_id for e in stored],
            [e.sequence for e in stored],
            [e.type for e in stored],
            data,
            hashes,
            [e.occurred_at for e in stored],
            POSITION_LOCK,
        )
        return AppendResult(
            stream_id=stream_id, version=new_version,
            positions=tuple(sorted(r["position"] for r in rows)), adoption_number=adoption_number,
        )

    async def _allocate_numbers(
        self, c: asyncpg.Connection, events: Sequence[Event]
    ) -> tuple[list[Event], int | None]:
        """Give each adoption the town's next number, in this transaction: gap-free, since
        a rolled-back append rolls its number back too."""
        stored: list[Event] = []
        number: int | None = None
        for e in events:
            if isinstance(e, ProposalAdopted) and e.adoption_number is None:
                number = await c.fetchval(
                    """INSERT INTO counters (name, value) VALUES ($1, 1)
                       ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
                       RETURNING value""",
                    f"adoption:{e.town.value}",
                )
                await c.execute(
                    """INSERT INTO adoption_numbers (town, number, proposal_id, event_id)
                       VALUES ($1, $2, $3, $4)""",
                    e.town.value, number, e.proposal_id, e.event_id,
                )
                e = e.model_copy(update={"adoption_number": number})
            stored.append(e)
        return stored, number

    async def _enqueue(
        self, c: asyncpg.Connection, notifications: Sequence[Notification],
        stored: Sequence[Event],
    ) -> None:
        numbers = {e.event_id: e.adoption_number for e in stored if isinstance(e, ProposalAdopted)}
        payloads = []
        for n in notifications:
            payload = dict(n.payload)
            if n.event_id in numbers:
                payload["adoption_number"] = numbers[n.event_id]
            payloads.append(payload)
        await c.execute(
            """INSERT INTO outbox (idempotency_key, proposal_id, event_id, recipient_role,
                                   recipient_id, recipient_address, channel, template, payload)
               SELECT u.k, u.p, u.e, u.rr, u.ri, u.ra, u.ch, u.t, u.pl::jsonb
               FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[],
                           $6::text[], $7::text[], $8::text[], $9::text[])
                    AS u(k, p, e, rr, ri, ra, ch, t, pl)
               ON CONFLICT (idempotency_key) DO NOTHING""",
            [n.key for n in notifications],
            [n.proposal_id for n in notifications],
            [n.event_id for n in notifications],
            [n.recipient_role.value for n in notifications],
            [n.recipient_id for n in notifications],
            [n.address for n in notifications],
            [n.channel for n in notifications],
            [n.template for n in notifications],
            [json.dumps(p, ensure_ascii=False) for p in payloads],
        )

    # -- reading -----------------------------------------------------------------------------

    async def stream_version(self, stream_id: str) -> int:
        async with self.pool.acquire() as c:
            return int(await c.fetchval(
                "SELECT coalesce(max(version), 0) FROM streams WHERE stream_id = $1", stream_id))

    async def load_stream(self, stream_id: str) -> list[Event]:
        async with self.pool.acquire() as c:
            rows = await c.fetch(
                "SELECT data::text AS data FROM events WHERE stream_id = $1 ORDER BY version",
                stream_id,
            )
        return [parse_event(r["data"]) for r in rows]

    async def load_proposal(self, proposal_id: str) -> list[RecordedEvent]:
        """Every event of a proposal, its members' streams included, in global order."""
        async with self.pool.acquire() as c:
            rows = await c.fetch(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE proposal_id = $1 ORDER BY position",
                proposal_id,
            )
        return [_recorded(r) for r in rows]

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events after `after` in global order, for a reader tailing the log.

        Positions become visible in increasing order (see POSITION_LOCK), so a reader that
        remembers the last position it saw never skips one.
        """
        async with self.pool.acquire() as c:
            rows = await c.fetch(
                f"""SELECT {_EVENT_COLUMNS} FROM events
                    WHERE position > $1 ORDER BY position LIMIT $2""",
                after, limit,
            )
        return [_recorded(r) for r in rows]
