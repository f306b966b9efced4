"""Actions that arrive while the workflow is busy are never lost, and a withdrawal that races
the rollout leaves every stream consistent.

Activities are held at a gate (an asyncio event: the worker runs in the test's event loop) so
that the race happens every time, not by luck.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment

from activities.contracts import (
    DeliveryReport,
    DeliveryRequest,
    IntakeFindings,
    IntakeRequest,
    RecordRequest,
    RecordResult,
    RolloutTargets,
    RolloutTargetsRequest,
)
from activities.intake import IntakeActivities
from activities.network import NetworkActivities
from activities.notify import NotifyActivities
from activities.records import RecordActivities
from domain.commands import CastVote
from domain.events import VoteCast, VoteDecision
from domain.pilot import PilotOutcome
from domain.stages import MemberStatus, Stage
from domain.values import Town
from eventstore.store import EventStore
from tests.factories import policies, town_policy
from tests.workflows.helpers import (
    CATCH_UP,
    Harness,
    as_worker_activities,
    bring_to,
    eventually,
    harness_with,
    municipalities,
    real_activities,
    reviewer,
)
from workflows.proposal import ProposalWorkflow

QUORUM_OF_THREE = policies(yokoze=town_policy(Town.YOKOZE, members=3, quorum=3))
REVIEWERS = ("yokoze-r1", "yokoze-r2", "yokoze-r3")


class Gate:
    """Holds activities until the test opens it; counts those waiting."""

    def __init__(self, expected: int = 1) -> None:
        self.expected = expected
        self.waiting = 0
        self.all_waiting = asyncio.Event()
        self.opened = asyncio.Event()

    async def pass_through(self) -> None:
        self.waiting += 1
        if self.waiting >= self.expected:
            self.all_waiting.set()
        await self.opened.wait()

    async def until_all_waiting(self) -> None:
        await asyncio.wait_for(self.all_waiting.wait(), CATCH_UP)


class GatedIntake(IntakeActivities):
    def __init__(self, pool: asyncpg.Pool, gate: Gate) -> None:
        super().__init__(pool)
        self.gate = gate

    @activity.defn(name="check_intake")
    async def check_intake(self, req: IntakeRequest) -> IntakeFindings:
        await self.gate.pass_through()
        return await super().check_intake(req)


class GatedTargets(NetworkActivities):
    def __init__(self, pool: asyncpg.Pool, gate: Gate) -> None:
        super().__init__(pool)
        self.gate = gate

    @activity.defn(name="rollout_targets")
    async def rollout_targets(self, req: RolloutTargetsRequest) -> RolloutTargets:
        await self.gate.pass_through()
        return await super().rollout_targets(req)


class GatedOffers(RecordActivities):
    """Holds the recording of each member's offer (the first event of a member's stream)."""

    def __init__(self, store: EventStore, gate: Gate) -> None:
        super().__init__(store)
        self.gate = gate

    @activity.defn(name="record_events")
    async def record_events(self, req: RecordRequest) -> RecordResult:
        if req.events[0].type == "member_offered":
            await self.gate.pass_through()
        return await super().record_events(req)


class GatedMemberDelivery(NotifyActivities):
    """Holds each member's first delivery (its offer)."""

    def __init__(self, pool: asyncpg.Pool, gate: Gate) -> None:
        super().__init__(pool, None)
        self.gate = gate
        self.seen: set[str] = set()

    @activity.defn(name="deliver_notifications")
    async def deliver_notifications(self, req: DeliveryRequest) -> DeliveryReport:
        wid = activity.info().workflow_id or ""
        if "-member-" in wid and wid not in self.seen:
            self.seen.add(wid)
            await self.gate.pass_through()
        return await super().deliver_notifications(req)


def with_gate(pool: asyncpg.Pool, store: EventStore, **replaced: Any
              ) -> list[Callable[..., Any]]:
    instances = real_activities(pool, store)
    instances.update(replaced)
    return as_worker_activities(instances)


def vote(rid: str) -> CastVote:
    return CastVote(actor=reviewer(rid), decision=VoteDecision.APPROVE, comment=f"{rid} agrees")


async def test_votes_sent_together_right_after_the_start_are_all_applied(kyoso: Harness
                                                                          ) -> None:
    run = await kyoso.submit(pol=QUORUM_OF_THREE)
    results = await asyncio.gather(*(run.handle.execute_update(ProposalWorkflow.vote, vote(r))
                                     for r in REVIEWERS))
    assert sorted(r.stage for r in results) == ["adopted", "in_review", "in_review"]
    events = await run.events()
    assert {e.reviewer_id for e in events if isinstance(e, VoteCast)} == set(REVIEWERS)
    assert [e.type for e in events] == [
        "proposal_submitted", "intake_accepted", "review_started",
        "vote_cast", "vote_cast", "vote_cast", "proposal_adopted"]
    await run.check()


async def test_votes_accepted_during_intake_wait_for_it_then_apply(
        ts_env: WorkflowEnvironment, pool: asyncpg.Pool, store: EventStore) -> None:
    gate = Gate()
    async with harness_with(ts_env, pool, store,
                            with_gate(pool, store, check_intake=GatedIntake(pool, gate))) as h:
        run = await h.submit(pol=QUORUM_OF_THREE)
        await gate.until_all_waiting()  # intake is under way, and held

        # All three are accepted now, before anything can be decided...
        updates = await asyncio.gather(*(
            run.handle.start_update(ProposalWorkflow.vote, vote(r),
                                    wait_for_stage=WorkflowUpdateStage.ACCEPTED)
            for r in REVIEWERS))
        held = await run.state()
        assert (held.stage, held.version) == (Stage.SUBMITTED, 1)

        # ...and applied, in some order, once intake has finished.
        gate.opened.set()
        results = await asyncio.gather(*(u.result() for u in updates))
        assert sorted(r.stage for r in results) == ["adopted", "in_review", "in_review"]
        assert await run.types() == [
            "proposal_submitted", "intake_accepted", "review_started",
            "vote_cast", "vote_cast", "vote_cast", "proposal_adopted"]
        history = await run.handle.fetch_history()
        order = [e.event_type for e in history.events]
        accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        intake_done = EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        first_accept = order.index(accepted)
        # Accepted before the intake activity (the second activity) completed.
        completions = [i for i, t in enumerate(order) if t == intake_done]
        assert first_accept < completions[1]
        await run.check()


async def test_withdrawal_while_the_rollout_targets_are_read(
        ts_env: WorkflowEnvironment, pool: asyncpg.Pool, store: EventStore) -> None:
    gate = Gate()
    async with harness_with(ts_env, pool, store,
                            with_gate(pool, store, rollout_targets=GatedTargets(pool, gate))
                            ) as h:
        await h.add_members(*municipalities("011002", "012025"))
        run = await h.submit()
        await bring_to(run, Stage.EVALUATING)
        await run.evaluate(PilotOutcome.SUCCESS)
        await gate.until_all_waiting()
        withdrawn = await run.withdraw(reason="The company closed.")
        assert withdrawn.stage == "withdrawn"
        gate.opened.set()

        final = await run.finish()
        assert final.stage is Stage.WITHDRAWN
        assert (await run.types())[-2:] == ["pilot_evaluated", "proposal_withdrawn"]
        assert await pool.fetchval("SELECT count(*) FROM rollout_members") == 0
        await run.check()


async def test_withdrawal_while_the_offers_are_being_recorded(
        ts_env: WorkflowEnvironment, pool: asyncpg.Pool, store: EventStore) -> None:
    """The members' workflows are cancelled in the middle of recording their offers: each
    finishes recording, then withdraws the offer; none fails or stays open, and nothing
    stays undelivered."""
    await withdraw_while_offers_are_held(ts_env, pool, store, "record_events")


async def test_withdrawal_while_the_offers_are_being_delivered(
        own_ts_env: WorkflowEnvironment, pool: asyncpg.Pool, store: EventStore) -> None:
    """The same, cancelled while delivering the offers: each withdraws its offer at once.

    On a server of its own: the delivery abandoned by the cancelled workflow completes after
    the workflow has closed, and the time-skipping test server then keeps time locked for
    good (its bookkeeping, not ours), which would stall every later test's clock.
    """
    await withdraw_while_offers_are_held(own_ts_env, pool, store, "deliver_notifications")


async def withdraw_while_offers_are_held(env: WorkflowEnvironment, pool: asyncpg.Pool,
                                         store: EventStore, held: str) -> None:
    lgcodes = ("011002", "012025", "012033", "012041", "074071")
    gate = Gate(expected=len(lgcodes))
    gated = (GatedOffers(store, gate) if held == "record_events"
             else GatedMemberDelivery(pool, gate))
    async with harness_with(env, pool, store, with_gate(pool, store, **{held: gated})) as h:
        await h.add_members(*municipalities(*lgcodes[:-1]))
        run = await h.submit()
        await bring_to(run, Stage.EVALUATING)
        await run.evaluate(PilotOutcome.SUCCESS)
        await gate.until_all_waiting()
        await run.withdraw(reason="The company closed.")
        members = [run.member(c) for c in lgcodes]

        async def cancel_requested() -> bool:
            for m in members:
                types = [e.event_type for e in (await m.handle.fetch_history()).events]
                if EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED not in types:
                    return False
            return True

        await eventually(cancel_requested, "the members' workflows to be cancelled")
        gate.opened.set()

        assert (await run.finish()).stage is Stage.WITHDRAWN
        for m in members:
            outcome = await m.finish()
            assert outcome.status is MemberStatus.WITHDRAWN
            assert await m.types() == ["member_offered", "member_offer_withdrawn"]
        await run.check()


async def test_a_member_answering_while_its_offer_is_being_delivered(
        ts_env: WorkflowEnvironment, pool: asyncpg.Pool, store: EventStore) -> None:
    """The member joins and deploys while the workflow is still delivering the offer: once
    the delivery is done, the workflow sees that the member is finished, and ends."""
    gate = Gate()
    async with harness_with(ts_env, pool, store, with_gate(
            pool, store, deliver_notifications=GatedMemberDelivery(pool, gate))) as h:
        run = await h.submit()
        await bring_to(run, Stage.EVALUATING)
        await run.evaluate(PilotOutcome.SUCCESS)
        await gate.until_all_waiting()
        (bandai,) = await run.offered("074071")  # the only other member of the network
        await bandai.join()
        await bandai.deployed()
        gate.opened.set()

        assert (await bandai.finish()).status is MemberStatus.DEPLOYED
        final = await run.finish()
        assert final.stage is Stage.COMPLETED
        await run.check()
