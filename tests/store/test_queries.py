"""What the secretariat reads: lists with filters, one proposal, notifications, statistics."""

from __future__ import annotations

import asyncpg

from domain.events import VoteDecision
from domain.proposal import Theme
from domain.values import PreferredTown
from eventstore import programme, queries
from eventstore.store import EventStore
from infra.registry import load_registry
from tests.lifecycle import Lifecycle


async def _put(store: EventStore, lc: Lifecycle, batches: list) -> None:  # type: ignore[type-arg]
    for expected, events, notes in batches:
        await store.append(lc.proposal_id, expected, events, notifications=notes)


async def test_lists_filter_by_stage_town_theme_and_openness(store: EventStore,
                                                             pool: asyncpg.Pool) -> None:
    adopted = Lifecycle(1, theme=Theme.DX)
    await _put(store, adopted, [*adopted.to_review(), adopted.vote("yokoze-r1"),
                                adopted.vote("yokoze-r2")])
    reviewing = Lifecycle(2, theme=Theme.HEALTH)
    await _put(store, reviewing, reviewing.to_review())
    waiting = Lifecycle(3, preferred_town=PreferredTown.EITHER)
    await _put(store, waiting, waiting.to_review())
    rejected = Lifecycle(4)
    await _put(store, rejected, [*rejected.to_review(),
                                 rejected.vote("yokoze-r1", VoteDecision.REJECT),
                                 rejected.vote("yokoze-r2", VoteDecision.REJECT)])

    def ids(rows: list[queries.ProposalRow]) -> set[str]:
        return {r.proposal_id for r in rows}

    assert ids(await queries.list_proposals(pool)) == {
        adopted.proposal_id, reviewing.proposal_id, waiting.proposal_id, rejected.proposal_id}
    assert ids(await queries.list_proposals(pool, stage="adopted")) == {adopted.proposal_id}
    assert ids(await queries.list_proposals(pool, theme="health")) == {reviewing.proposal_id}
    assert ids(await queries.list_proposals(pool, town="yokoze", stage="in_review")) == {
        reviewing.proposal_id}
    assert ids(await queries.list_proposals(pool, stage="awaiting_assignment")) == {
        waiting.proposal_id}
    assert rejected.proposal_id not in ids(await queries.list_proposals(pool, open_only=True))
    assert len(await queries.list_proposals(pool, limit=2)) == 2
    newest_first = await queries.list_proposals(pool)
    assert [r.submitted_at for r in newest_first] == sorted(
        (r.submitted_at for r in newest_first), reverse=True)

    row, state = await queries.proposal(pool, adopted.proposal_id) or (None, None)
    assert row is not None and state is not None
    assert (row.stage, row.adoption_number, row.waiting_for) == ("adopted", 1, "pilot_plan")
    assert state == adopted.state.model_copy(update={"adoption_number": 1})
    assert await queries.proposal(pool, "P-0000000000") is None

    sent = await queries.notifications(pool, adopted.proposal_id)
    assert {n["template"] for n in sent} >= {"intake_accepted", "review_started", "adopted"}
    assert all(n["status"] == "pending" for n in sent)

    stats = await queries.stats(pool)
    assert stats["adoptions"] == {"yokoze": {"count": 1, "last": 1}}
    by = {(r["town"], r["stage"]): r["n"] for r in stats["by_town_and_stage"]}
    assert by[("yokoze", "in_review")] == 1 and by[("-", "awaiting_assignment")] == 1
    assert stats["events"] == await pool.fetchval("SELECT count(*) FROM events")


async def test_programme_settings_are_audited(pool: asyncpg.Pool) -> None:
    from domain.values import Town

    assert await programme.open_towns(pool) == [Town.BANDAI, Town.YOKOZE]
    await programme.set_intake(pool, Town.YOKOZE, paused=True, reason="rework", actor="office")
    assert await programme.open_towns(pool) == [Town.BANDAI]
    await programme.set_intake(pool, Town.YOKOZE, paused=False, reason=None, actor="office")
    registry = load_registry()
    added = await programme.add_members(pool, [registry.municipalities["112071"]], "office")
    again = await programme.add_members(pool, [registry.municipalities["112071"]], "office")
    assert (added, again) == (1, 0)
    assert [m.lgcode for m in await programme.members(pool)] == ["074071", "112071", "113611"]
    log = await pool.fetch("SELECT action, subject, actor FROM programme_log ORDER BY id")
    assert [(r["action"], r["subject"]) for r in log] == [
        ("pause_intake", "yokoze"), ("resume_intake", "yokoze"),
        ("add_members", "1 municipalities")]
