"""Driving one whole lifecycle, the way people do (through Updates), for kyoso and its floor.

A lifecycle: submission and intake, three reviewer votes (the shipped Yokoze policy needs a
quorum of 3 of 5), a pilot plan with exact moments a second or so away, two progress reports,
the evaluation, a rollout to three network members who join and report deployment, and the
completion. Waits for people keep the shipped durations (weeks; never reached); the pilot's
start and end are the only timers that fire. Both drivers wait the same way: the first vote
is sent at once and waits in the workflow until intake is done (so it is not timed); later
the stage is polled with a query every POLL seconds, a member's workflow with describe().
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from bench import floor
from domain.commands import (
    CastVote,
    EvaluatePilot,
    FileReport,
    JoinRollout,
    PlanPilot,
    ReportDeployed,
)
from domain.events import VoteDecision
from domain.people import Actor
from domain.pilot import Kpi, KpiValue, PilotEvaluation, PilotOutcome, PilotPlan, PilotReport
from domain.policy import ProgrammePolicies
from domain.proposal import Contact, Proposal, Proposer, Theme
from domain.stages import Stage
from domain.state import ProposalState
from domain.values import PreferredTown, Role, today_jst
from workflows.client import member_handle, start_proposal
from workflows.membership import MembershipWorkflow
from workflows.proposal import ProposalWorkflow

T = TypeVar("T")
POLL = 0.25
SECRETARIAT = Actor(role=Role.SECRETARIAT, id="bench-office")
PROPOSER = Actor(role=Role.PROPOSER, id="bench-proposer")
VOTERS = ("yokoze-tanaka", "yokoze-suzuki", "yokoze-ito")
# Three members of the network besides the founding towns' host: Bandai (a founding member)
# and two towns of the Chichibu area, added by the section that runs the lifecycles.
MEMBERS = ("074071", "112071", "113620")
EXTRA_MEMBERS = ("112071", "113620")


@dataclass(frozen=True)
class Pilot:
    delay: float = 1.0  # seconds from the plan to the pilot's start
    length: float = 8.0  # seconds from start to end: two reports fit, even under load

    def moments(self) -> tuple[datetime, datetime]:
        start = datetime.now(UTC) + timedelta(seconds=self.delay)
        return start, start + timedelta(seconds=self.length)


@dataclass
class Samples:
    """Round trips of the vote Update (or the floor's bare Update), in seconds; in a whole
    lifecycle the first vote, which waits for the intake, is kept apart."""

    votes: list[float] = field(default_factory=list)
    first_votes: list[float] = field(default_factory=list)


class Driver(Protocol):
    name: str
    progress: dict[int, str]  # proposal -> the step it was at (for failure messages)

    async def lifecycle(self, i: int, samples: Samples) -> None:
        """Proposal `i`, from submission to completion; its votes are timed."""

    async def open_review(self, i: int) -> None:
        """Start proposal `i` and wait until its committee may vote."""

    async def cast(self, i: int, voter: int, samples: Samples, first: bool = False) -> None:
        """One vote on proposal `i`, timed (kept apart if `first`)."""


async def until(probe: Callable[[], Awaitable[T | None]], what: str, within: float = 300.0
                ) -> T:
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL)


async def sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


async def timed(samples: list[float], call: Awaitable[T]) -> T:
    started = time.perf_counter()
    result = await call
    samples.append(time.perf_counter() - started)
    return result


async def exists(handle: WorkflowHandle[Any, Any]) -> bool | None:
    try:
        await handle.describe()
    except RPCError:
        return None
    return True


def bench_proposal(tag: str, i: int) -> Proposal:
    return Proposal(
        proposer=Proposer(organisation=f"Bench Mobility {tag} {i} K.K.", kind="company",
                          contact=Contact(name="Bench Taro", email=f"bench{i}@example.com")),
        title=f"On-demand minibus trial {tag}-{i}",
        summary="A shared minibus booked by phone or LINE, routed each morning by a dispatcher.",
        theme=Theme.MOBILITY, requested_support="A bus stop near the town hall.",
        preferred_town=PreferredTown.YOKOZE)


def pilot_plan(start: datetime, end: datetime) -> PilotPlan:
    today = today_jst(datetime.now(UTC))
    return PilotPlan(start_date=today, end_date=today + timedelta(days=2), exact_start=start,
                     exact_end=end, kpis=(Kpi(name="riders per week", target="50"),))


class KyosoDriver:
    """The production workflows, through the same client helpers as starter.py."""

    name = "kyoso"

    def __init__(self, client: Client, task_queue: str, policies: ProgrammePolicies, tag: str,
                 pilot: Pilot = Pilot()) -> None:
        self.client = client
        self.task_queue = task_queue
        self.policies = policies
        self.tag = tag
        self.pilot = pilot
        self.handles: dict[int, WorkflowHandle[ProposalWorkflow, ProposalState]] = {}
        self.progress: dict[int, str] = {}

    async def start(self, i: int) -> WorkflowHandle[ProposalWorkflow, ProposalState]:
        handle = await start_proposal(self.client, bench_proposal(self.tag, i), self.policies,
                                      task_queue=self.task_queue, submitted_by=SECRETARIAT)
        self.handles[i] = handle
        return handle

    async def at(self, handle: WorkflowHandle[ProposalWorkflow, ProposalState], *stages: Stage
                 ) -> ProposalState:
        async def probe() -> ProposalState | None:
            state = await handle.query(ProposalWorkflow.current_state)
            return state if state.stage in stages else None
        return await until(probe, f"{handle.id} at {stages}")

    async def open_review(self, i: int) -> None:
        await self.at(await self.start(i), Stage.IN_REVIEW)

    async def cast(self, i: int, voter: int, samples: Samples, first: bool = False) -> None:
        await timed(samples.first_votes if first else samples.votes,
                    self.handles[i].execute_update(ProposalWorkflow.vote, CastVote(
                        actor=Actor(role=Role.REVIEWER, id=VOTERS[voter]),
                        decision=VoteDecision.APPROVE, comment="Residents need this.")))

    async def lifecycle(self, i: int, samples: Samples) -> None:
        h = await self.evaluated(i, samples)
        pid = h.id.removeprefix("proposal-")
        self.progress[i] = "members join and deploy"
        await asyncio.gather(*(self._member(pid, code) for code in MEMBERS))
        self.progress[i] = "completion"
        state = await h.result()
        if state.stage is not Stage.COMPLETED:
            raise RuntimeError(f"{pid} ended {state.stage}, not completed")

    async def evaluated(self, i: int, samples: Samples
                        ) -> WorkflowHandle[ProposalWorkflow, ProposalState]:
        """Proposal `i` adopted, piloted and evaluated a success: its rollout starts."""
        self.progress[i] = "start"
        await self.start(i)
        for voter in range(len(VOTERS)):
            self.progress[i] = f"vote {voter + 1}"
            await self.cast(i, voter, samples, first=voter == 0)
        h = self.handles[i]
        start, end = self.pilot.moments()
        self.progress[i] = "pilot plan"
        await h.execute_update(ProposalWorkflow.plan_pilot,
                               PlanPilot(actor=SECRETARIAT, plan=pilot_plan(start, end)))
        await sleep_until(start)
        self.progress[i] = "pilot start"
        await self.at(h, Stage.PILOT)
        for n in (1, 2):
            self.progress[i] = f"report {n}"
            await h.execute_update(ProposalWorkflow.file_report, FileReport(
                actor=PROPOSER, report=PilotReport(
                    summary=f"Report {n}: riders as planned.",
                    kpis=(KpiValue(name="riders per week", value="45"),))))
        await sleep_until(end)
        self.progress[i] = "pilot end"
        await self.at(h, Stage.EVALUATING)
        self.progress[i] = "evaluation"
        await h.execute_update(ProposalWorkflow.evaluate_pilot, EvaluatePilot(
            actor=SECRETARIAT, evaluation=PilotEvaluation(outcome=PilotOutcome.SUCCESS,
                                                          comment="Worth rolling out.")))
        return h

    async def _member(self, proposal_id: str, lgcode: str) -> None:
        m = member_handle(self.client, proposal_id, lgcode)
        await until(lambda: exists(m), f"member workflow {m.id}")
        me = Actor(role=Role.MEMBER, id=lgcode)
        await m.execute_update(MembershipWorkflow.join, JoinRollout(actor=me))
        await m.execute_update(MembershipWorkflow.deployed, ReportDeployed(actor=me,
                                                                           note="In service."))


class FloorDriver:
    """The floor: bare workflows of the same shape (bench/floor.py), driven the same way."""

    name = "floor"

    def __init__(self, client: Client, task_queue: str, pilot: Pilot = Pilot()) -> None:
        self.client = client
        self.task_queue = task_queue
        self.pilot = pilot
        self.handles: dict[int, WorkflowHandle[floor.FloorLifecycle, str]] = {}
        self.progress: dict[int, str] = {}

    async def start(self, i: int) -> WorkflowHandle[floor.FloorLifecycle, str]:
        handle = await self.client.start_workflow(
            floor.FloorLifecycle.run, floor.Start(members=list(MEMBERS)),
            id=f"{self.task_queue}-{i}", task_queue=self.task_queue)
        self.handles[i] = handle
        return handle

    async def at(self, handle: WorkflowHandle[floor.FloorLifecycle, str], stage: str) -> None:
        async def probe() -> bool | None:
            return True if await handle.query(floor.FloorLifecycle.stage) == stage else None
        await until(probe, f"{handle.id} at {stage}")

    async def open_review(self, i: int) -> None:
        await self.at(await self.start(i), floor.IN_REVIEW)

    async def cast(self, i: int, voter: int, samples: Samples, first: bool = False) -> None:
        await timed(samples.first_votes if first else samples.votes,
                    self.handles[i].execute_update(floor.FloorLifecycle.vote, voter))

    async def lifecycle(self, i: int, samples: Samples) -> None:
        self.progress[i] = "start"
        await self.start(i)
        for voter in range(len(VOTERS)):
            self.progress[i] = f"vote {voter + 1}"
            await self.cast(i, voter, samples, first=voter == 0)
        h = self.handles[i]
        start, end = self.pilot.moments()
        self.progress[i] = "pilot plan"
        await h.execute_update(floor.FloorLifecycle.plan_pilot, floor.Plan(start=start, end=end))
        await sleep_until(start)
        self.progress[i] = "pilot start"
        await self.at(h, floor.PILOT)
        for n in (1, 2):
            self.progress[i] = f"report {n}"
            await h.execute_update(floor.FloorLifecycle.file_report, n)
        await sleep_until(end)
        self.progress[i] = "pilot end"
        await self.at(h, floor.EVALUATING)
        self.progress[i] = "evaluation"
        await h.execute_update(floor.FloorLifecycle.evaluate_pilot, "success")
        self.progress[i] = "members join and deploy"
        await asyncio.gather(*(self._member(h.id, code) for code in MEMBERS))
        self.progress[i] = "completion"
        if await h.result() != floor.COMPLETED:
            raise RuntimeError(f"{h.id} did not complete")

    async def _member(self, parent_id: str, lgcode: str) -> None:
        m = self.client.get_workflow_handle_for(floor.FloorMember.run,
                                                floor.member_id(parent_id, lgcode))
        await until(lambda: exists(m), f"member workflow {m.id}")
        await m.execute_update(floor.FloorMember.join, lgcode)
        await m.execute_update(floor.FloorMember.deployed, lgcode)
