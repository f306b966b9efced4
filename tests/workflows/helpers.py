"""Driving proposals through their workflows on a real Temporal server, and checking that the
event log, the projections, the outbox and the workflows' own state agree.

A `Harness` is one test's view of the system: the Temporal client, the test's fresh database
and the worker's task queue. `Run` drives one proposal through its Updates, the way the CLI
does, and `check_consistency` is called at the end of every run.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.intake import IntakeActivities
from activities.mailer import SmtpMailer
from activities.network import NetworkActivities
from activities.notify import NotifyActivities
from activities.records import RecordActivities
from domain.commands import (
    Assign,
    CastVote,
    DeclineRollout,
    EvaluatePilot,
    ExtendDeadline,
    FileReport,
    JoinRollout,
    PlanPilot,
    Refer,
    ReportDeployed,
    Revise,
    Withdraw,
)
from domain.deadlines import DeadlineKind
from domain.events import Event, VoteDecision
from domain.network import Municipality
from domain.notifications import for_member, for_proposal
from domain.people import Actor
from domain.pilot import Kpi, KpiValue, PilotEvaluation, PilotOutcome, PilotPlan, PilotReport
from domain.policy import ProgrammePolicies
from domain.proposal import Proposal, ProposalRevision
from domain.rollout import MembershipState, evolve_member
from domain.stages import MemberStatus, Stage
from domain.state import ProposalState, fold
from domain.values import Role, Town, today_jst
from eventstore import programme
from eventstore.store import EventStore
from tests.factories import policies as make_policies
from tests.factories import proposal as make_proposal
from worker import build_worker
from workflows.client import member_handle, start_proposal
from workflows.contracts import BATCH_SIZE, ActionResult, MemberOutcome
from workflows.ids import batch_workflow_id, member_workflow_id
from workflows.membership import MembershipWorkflow
from workflows.proposal import ProposalWorkflow

T = TypeVar("T")

SECRETARIAT = Actor(role=Role.SECRETARIAT, id="office")
PROPOSER = Actor(role=Role.PROPOSER, id="proposer")

# Real seconds a test waits for the workflows to catch up with what it did (or with skipped
# time) before it fails. Nothing here sleeps for a fixed time: every wait polls a condition.
CATCH_UP = 30.0

HISTORIES = Path(__file__).parent / "histories"
RECORD_HISTORIES = os.environ.get("KYOSO_RECORD_HISTORIES") == "1"


def reviewer(reviewer_id: str) -> Actor:
    return Actor(role=Role.REVIEWER, id=reviewer_id)


def member(lgcode: str) -> Actor:
    return Actor(role=Role.MEMBER, id=lgcode)


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str,
                     within: float = CATCH_UP) -> T:
    """Poll `probe` until it returns something other than None (or False)."""
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


def failure_text(err: BaseException) -> str:
    """An Update's failure with its causes, as the person who sent it would read them."""
    parts: list[str] = []
    current: BaseException | None = err
    while current is not None:
        parts.append(str(current))
        nxt = getattr(current, "cause", None) or current.__cause__
        current = nxt if isinstance(nxt, BaseException) else None
    return " | ".join(parts)


# -- the harness --------------------------------------------------------------------------------

@dataclass
class Harness:
    """One test's Temporal client, database and task queue, and the proposals it started."""

    env: WorkflowEnvironment
    pool: asyncpg.Pool
    store: EventStore
    task_queue: str
    runs: list[Run] = field(default_factory=list)

    @property
    def client(self) -> Client:
        return self.env.client

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def skip(self, days: float, *, within: float = CATCH_UP) -> None:
        """Let `days` pass on the time-skipping server's clock.

        The server stops the clock while the workflows work through what falls due, so this
        takes as much real time as that work: `within` bounds it (env.sleep's own RPC gives
        up after a few seconds, too soon for a rollout to 1,740 members).
        """
        request = SleepRequest()
        request.duration.FromTimedelta(timedelta(days=days))
        await self.client.test_service.unlock_time_skipping_with_sleep(
            request, timeout=timedelta(seconds=within))

    async def submit(self, prop: Proposal | None = None, pol: ProgrammePolicies | None = None,
                     *, by: Actor = PROPOSER, proposal_id: str | None = None,
                     history_limit: int | None = None) -> Run:
        prop = prop or make_proposal()
        pol = pol or make_policies()
        handle = await start_proposal(self.client, prop, pol, task_queue=self.task_queue,
                                      submitted_by=by, proposal_id=proposal_id,
                                      history_limit=history_limit)
        run = Run(self, handle.id.removeprefix("proposal-"), prop, pol, handle)
        self.runs.append(run)
        return run

    async def add_members(self, *members: Municipality) -> None:
        await programme.add_members(self.pool, list(members), actor="test")

    async def check_all(self, *, member_queries: bool | int = True) -> None:
        for run in self.runs:
            await check_consistency(self, run.proposal_id, member_queries=member_queries)

    async def terminate_all(self) -> None:
        """Leave nothing running on the shared server: an orphaned workflow's timers would
        otherwise fire with no worker to serve them while later tests skip time."""
        for run in self.runs:
            ids = [run.handle.id]
            rows = await self.pool.fetch(
                "SELECT lgcode FROM rollout_members WHERE proposal_id = $1", run.proposal_id)
            ids += [batch_workflow_id(run.proposal_id, b)
                    for b in range((len(rows) + BATCH_SIZE - 1) // BATCH_SIZE)]
            ids += [member_workflow_id(run.proposal_id, r["lgcode"]) for r in rows]
            for i in range(0, len(ids), 50):
                await asyncio.gather(*(self._terminate(wid) for wid in ids[i:i + 50]))

    async def _terminate(self, workflow_id: str) -> None:
        with suppress(RPCError):  # already closed, or never started
            await self.client.get_workflow_handle(workflow_id).terminate("test finished")


# -- one proposal -------------------------------------------------------------------------------

@dataclass
class Run:
    """One proposal's workflow, driven the way people drive it: through Updates."""

    h: Harness
    proposal_id: str
    proposal: Proposal
    policies: ProgrammePolicies
    handle: WorkflowHandle[ProposalWorkflow, ProposalState]

    # -- reading -----------------------------------------------------------------------------
    async def state(self) -> ProposalState:
        return await self.handle.query(ProposalWorkflow.current_state)

    async def until(self, ok: Callable[[ProposalState], bool], what: str) -> ProposalState:
        async def probe() -> ProposalState | None:
            s = await self.state()
            return s if ok(s) else None
        return await eventually(probe, f"{self.proposal_id}: {what}")

    async def at(self, stage: Stage) -> ProposalState:
        return await self.until(lambda s: s.stage is stage, f"stage {stage.value}")

    async def events(self) -> list[Event]:
        """The main stream, from the event store."""
        return [r.event for r in await self.h.store.load_proposal(self.proposal_id)
                if r.event.member is None]

    async def types(self) -> list[str]:
        return [e.type for e in await self.events()]

    async def until_recorded(self, event_type: str, count: int = 1) -> list[Event]:
        """Wait until the store holds `count` events of `event_type`; return them."""
        async def probe() -> list[Event] | None:
            found = [e for e in await self.events() if e.type == event_type]
            return found if len(found) >= count else None
        return await eventually(probe, f"{self.proposal_id}: {count} x {event_type}")

    async def finish(self) -> ProposalState:
        """The workflow's result, once it has ended.

        Time stands still while we wait: a test lets time pass with `skip`, explicitly. (The
        time-skipping server otherwise skips time while a result is awaited, and once idle it
        was seen to jump about ten years ahead, its default run timeout.)
        """
        with self.h.env.auto_time_skipping_disabled():
            return await asyncio.wait_for(self.handle.result(), CATCH_UP)

    # -- acting ------------------------------------------------------------------------------
    async def vote(self, reviewer_id: str, decision: VoteDecision = VoteDecision.APPROVE,
                   comment: str = "Good for the residents.") -> ActionResult:
        return await self.handle.execute_update(ProposalWorkflow.vote, CastVote(
            actor=reviewer(reviewer_id), decision=decision, comment=comment))

    async def votes(self, decision: VoteDecision, *reviewer_ids: str) -> ActionResult:
        result: ActionResult | None = None
        for rid in reviewer_ids:
            result = await self.vote(rid, decision, comment=f"{rid}: {decision.value}")
        assert result is not None
        return result

    async def adopt(self, town: Town = Town.YOKOZE) -> ActionResult:
        return await self.votes(VoteDecision.APPROVE, f"{town.value}-r1", f"{town.value}-r2")

    async def request_changes(self) -> ActionResult:
        return await self.votes(VoteDecision.REQUEST_CHANGES, "yokoze-r1", "yokoze-r2")

    async def revise(self, title: str = "On-demand bus trial, smaller first phase"
                     ) -> ActionResult:
        return await self.handle.execute_update(ProposalWorkflow.revise, Revise(
            actor=PROPOSER, revision=ProposalRevision(title=title, note="Fewer stops first.")))

    async def refer(self, to_town: Town, by: Actor = SECRETARIAT,
                    reason: str = "The other town runs a similar service.") -> ActionResult:
        return await self.handle.execute_update(ProposalWorkflow.refer, Refer(
            actor=by, to_town=to_town, reason=reason))

    async def assign(self, town: Town) -> ActionResult:
        return await self.handle.execute_update(ProposalWorkflow.assign, Assign(
            actor=SECRETARIAT, town=town))

    async def withdraw(self, reason: str = "We found another partner.") -> ActionResult:
        return await self.handle.execute_update(ProposalWorkflow.withdraw, Withdraw(
            actor=PROPOSER, reason=reason))

    async def extend(self, kind: DeadlineKind, due_at: datetime) -> ActionResult:
        return await self.handle.execute_update(ProposalWorkflow.extend_deadline, ExtendDeadline(
            actor=SECRETARIAT, deadline=kind, due_at=due_at))

    async def plan_pilot(self, start_in_days: int = 2, length_days: int = 70) -> PilotPlan:
        start = today_jst(await self.h.now()) + timedelta(days=start_in_days)
        plan = PilotPlan(start_date=start, end_date=start + timedelta(days=length_days),
                         kpis=(Kpi(name="riders per week", target="50"),))
        await self.handle.execute_update(ProposalWorkflow.plan_pilot, PlanPilot(
            actor=SECRETARIAT, plan=plan))
        return plan

    async def file_report(self, riders: int = 38) -> ActionResult:
        return await self.handle.execute_update(ProposalWorkflow.file_report, FileReport(
            actor=PROPOSER, report=PilotReport(
                summary=f"{riders} riders a week.",
                kpis=(KpiValue(name="riders per week", value=str(riders)),))))

    async def evaluate(self, outcome: PilotOutcome, new_end: date | None = None) -> ActionResult:
        return await self.handle.execute_update(ProposalWorkflow.evaluate_pilot, EvaluatePilot(
            actor=SECRETARIAT, evaluation=PilotEvaluation(
                outcome=outcome, comment=f"Evaluated: {outcome.value}.", new_end_date=new_end)))

    # -- the pilot, by the clock -------------------------------------------------------------
    async def start_pilot(self) -> ProposalState:
        """From adopted: plan a pilot that starts in two days, and let it start."""
        await self.plan_pilot()
        await self.h.skip(3)
        return await self.at(Stage.PILOT)

    async def end_pilot(self) -> ProposalState:
        """From pilot: let the pilot run to its end (reports come due meanwhile)."""
        s = await self.state()
        assert s.pilot is not None
        days = (s.pilot.ends_at - await self.h.now()).total_seconds() / 86400
        await self.h.skip(days + 1)
        return await self.at(Stage.EVALUATING)

    # -- rollout -----------------------------------------------------------------------------
    def member(self, lgcode: str) -> MemberRun:
        return MemberRun(self, lgcode, member_handle(self.h.client, self.proposal_id, lgcode))

    async def offered(self, *lgcodes: str) -> list[MemberRun]:
        """Wait until each member's workflow has recorded its offer."""
        members = [self.member(c) for c in lgcodes]
        for m in members:
            await m.until(lambda s: s.status is not None, "the offer")
        return members

    async def check(self, *, member_queries: bool | int = True) -> Consistency:
        return await check_consistency(self.h, self.proposal_id, member_queries=member_queries)


@dataclass
class MemberRun:
    run: Run
    lgcode: str
    handle: WorkflowHandle[MembershipWorkflow, object]

    @property
    def me(self) -> Actor:
        return member(self.lgcode)

    async def state(self) -> MembershipState:
        return await self.handle.query(MembershipWorkflow.current_state)

    async def until(self, ok: Callable[[MembershipState], bool], what: str) -> MembershipState:
        async def probe() -> MembershipState | None:
            try:
                s = await self.state()
            except RPCError:
                return None  # not started yet
            return s if ok(s) else None
        return await eventually(probe, f"member {self.lgcode}: {what}")

    async def status(self, status: MemberStatus) -> MembershipState:
        return await self.until(lambda s: s.status is status, status.value)

    async def join(self) -> ActionResult:
        return await self.handle.execute_update(MembershipWorkflow.join, JoinRollout(actor=self.me))

    async def decline(self, reason: str = "No budget this year.") -> ActionResult:
        return await self.handle.execute_update(MembershipWorkflow.decline, DeclineRollout(
            actor=self.me, reason=reason))

    async def deployed(self, note: str = "Running since spring.") -> ActionResult:
        return await self.handle.execute_update(MembershipWorkflow.deployed, ReportDeployed(
            actor=self.me, note=note))

    async def events(self) -> list[Event]:
        return [r.event for r in await self.run.h.store.load_proposal(self.run.proposal_id)
                if r.event.member == self.lgcode]

    async def finish(self) -> MemberOutcome:
        with self.run.h.env.auto_time_skipping_disabled():
            outcome = await asyncio.wait_for(self.handle.result(), CATCH_UP)
        assert isinstance(outcome, MemberOutcome)
        return outcome

    async def types(self) -> list[str]:
        return [e.type for e in await self.events()]


# -- consistency --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Consistency:
    state: ProposalState
    events: int
    notifications: int
    members: dict[str, MembershipState]


async def check_consistency(h: Harness, proposal_id: str, *, member_queries: bool | int = True
                            ) -> Consistency:
    """The event log, the projections, the outbox and the workflows agree about a proposal.

    - every notification of the proposal has been delivered (recorded, or sent by SMTP);
    - the main stream folds to the workflow's own state (its query), and so does the
      `proposals` row: same version, stage and adoption number, same state;
    - each member's stream folds to its `rollout_members` row and to its workflow's state
      (every member's workflow is queried, or the first `member_queries` of them);
    - streams are gap-free, event ids and outbox idempotency keys are unique;
    - the outbox holds exactly the notifications the domain derives from the events.
    """
    pool = h.pool
    await eventually(lambda: _all_delivered(pool, proposal_id),
                     f"{proposal_id}: every notification delivered")
    handle = h.client.get_workflow_handle_for(ProposalWorkflow.run, f"proposal-{proposal_id}")

    async def settled() -> tuple[ProposalState, list[Event]] | None:
        # The workflow folds an event only once its record activity returns: wait for that.
        state = await handle.query(ProposalWorkflow.current_state)
        recorded = [r.event for r in await h.store.load_proposal(proposal_id)]
        main = [e for e in recorded if e.member is None]
        return (state, recorded) if main and main[-1].sequence == state.version else None

    state, recorded = await eventually(settled, f"{proposal_id}: workflow caught up")
    main = [e for e in recorded if e.member is None]

    # The log itself: unique ids, gap-free streams.
    ids = [e.event_id for e in recorded]
    assert len(set(ids)) == len(ids), "duplicate event ids"
    by_stream: dict[str | None, list[Event]] = defaultdict(list)
    for e in recorded:
        by_stream[e.member].append(e)
    for member_code, stream in by_stream.items():
        versions = [e.sequence for e in stream]
        assert versions == list(range(1, len(stream) + 1)), (
            f"stream {member_code or 'main'} is not gap-free: {versions}")
        stored = await pool.fetchval("SELECT version FROM streams WHERE stream_id = $1",
                                     stream[0].stream_id)
        assert stored == len(stream)

    # Main stream == workflow query == proposals row.
    assert fold(main) == state, "folding the main stream does not give the workflow's state"
    row = await pool.fetchrow(
        "SELECT version, stage, adoption_number, town, is_open, state::text AS state "
        "FROM proposals WHERE proposal_id = $1", proposal_id)
    assert row is not None, "no proposals row"
    assert row["version"] == state.version
    assert state.stage is not None and row["stage"] == state.stage.value
    assert row["adoption_number"] == state.adoption_number
    assert row["town"] == (state.town.value if state.town else None)
    assert row["is_open"] == state.is_open
    assert ProposalState.model_validate_json(row["state"]) == state
    if state.adoption_number is not None:
        assert state.town is not None
        numbered = await pool.fetchval(
            "SELECT number FROM adoption_numbers WHERE proposal_id = $1 AND town = $2",
            proposal_id, state.town.value)
        assert numbered == state.adoption_number

    # The outbox: unique keys, exactly the notifications the domain derives from the events.
    outbox = await pool.fetch(
        "SELECT idempotency_key, event_id, status, template, payload::text AS payload "
        "FROM outbox WHERE proposal_id = $1", proposal_id)
    keys = [r["idempotency_key"] for r in outbox]
    assert len(set(keys)) == len(keys), "duplicate notification keys"
    assert {r["event_id"] for r in outbox} <= set(ids), "a notification without its event"
    expected = {n.key for n in for_proposal(ProposalState(), main)}

    members: dict[str, MembershipState] = {}
    assert state.policies is not None
    for member_code, stream in by_stream.items():
        if member_code is None:
            continue
        folded = MembershipState()
        for e in stream:
            folded = evolve_member(folded, e)
        members[member_code] = folded
        assert folded.host_town is not None
        email = state.policies.of(folded.host_town).secretariat_email
        expected |= {n.key for n in for_member(MembershipState(), stream, email)}
        mrow = await pool.fetchrow(
            "SELECT version, status, state::text AS state FROM rollout_members "
            "WHERE proposal_id = $1 AND lgcode = $2", proposal_id, member_code)
        assert mrow is not None, f"no rollout_members row for {member_code}"
        assert folded.status is not None
        assert (mrow["version"], mrow["status"]) == (folded.version, folded.status.value)
        assert MembershipState.model_validate_json(mrow["state"]) == folded
    assert set(keys) == expected, (
        f"outbox differs from the events: missing {sorted(expected - set(keys))[:3]}, "
        f"extra {sorted(set(keys) - expected)[:3]}")
    member_rows = await pool.fetchval(
        "SELECT count(*) FROM rollout_members WHERE proposal_id = $1", proposal_id)
    assert member_rows == len(members)

    if member_queries:
        sample = sorted(members.items())
        if not isinstance(member_queries, bool):
            sample = sample[:member_queries]
        for member_code, folded in sample:
            mh = member_handle(h.client, proposal_id, member_code)

            async def caught_up(mh: Any = mh, folded: MembershipState = folded
                                ) -> MembershipState | None:
                s: MembershipState = await mh.query(MembershipWorkflow.current_state)
                return s if s.version >= folded.version else None

            queried = await eventually(caught_up, f"member {member_code} caught up")
            assert queried == folded, f"member {member_code}: workflow and log disagree"
    return Consistency(state=state, events=len(recorded), notifications=len(outbox),
                       members=members)


async def _all_delivered(pool: asyncpg.Pool, proposal_id: str) -> bool:
    rows = await pool.fetch(
        "SELECT status, count(*) AS n FROM outbox WHERE proposal_id = $1 GROUP BY status",
        proposal_id)
    counts = {r["status"]: r["n"] for r in rows}
    assert not counts.get("failed"), f"{counts['failed']} notification(s) failed"
    return not counts.get("pending")


async def database_totals(pool: asyncpg.Pool) -> tuple[int, int]:
    """(events, outbox rows) in the whole database."""
    events = await pool.fetchval("SELECT count(*) FROM events")
    outbox = await pool.fetchval("SELECT count(*) FROM outbox")
    return int(events), int(outbox)


async def outbox_templates(pool: asyncpg.Pool, proposal_id: str) -> list[tuple[str, str]]:
    """(template, recipient id) of every notification of a proposal, in order."""
    rows = await pool.fetch(
        "SELECT template, recipient_id FROM outbox WHERE proposal_id = $1 ORDER BY id",
        proposal_id)
    return [(r["template"], r["recipient_id"]) for r in rows]


async def payloads(pool: asyncpg.Pool, proposal_id: str, template: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT payload::text AS p FROM outbox WHERE proposal_id = $1 AND template = $2 "
        "ORDER BY id", proposal_id, template)
    return [json.loads(r["p"]) for r in rows]


# -- histories ----------------------------------------------------------------------------------

def update_ids_in_history(events: Iterable[Any]) -> set[str]:
    """Ids of every Update the history admitted, accepted or completed."""
    found: set[str] = set()
    for e in events:
        if e.HasField("workflow_execution_update_accepted_event_attributes"):
            found.add(e.workflow_execution_update_accepted_event_attributes
                      .accepted_request.meta.update_id)
        if e.HasField("workflow_execution_update_admitted_event_attributes"):
            found.add(e.workflow_execution_update_admitted_event_attributes
                      .request.meta.update_id)
        if e.HasField("workflow_execution_update_completed_event_attributes"):
            found.add(e.workflow_execution_update_completed_event_attributes.meta.update_id)
    return found


async def save_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With KYOSO_RECORD_HISTORIES=1, write the workflow's history for the replay test."""
    if not RECORD_HISTORIES:
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    data = json.loads(history.to_json())
    (HISTORIES / f"{name}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")


def municipalities(*lgcodes: str, email: bool = False) -> list[Municipality]:
    """Municipalities from the shipped registry, optionally with a contact address."""
    from infra.registry import load_registry

    reg = load_registry()
    found = [reg.municipalities[c] for c in lgcodes]
    if email:
        found = [m.model_copy(update={"contact_email": f"office-{m.lgcode}@example.jp"})
                 for m in found]
    return found


async def bring_to(run: Run, stage: Stage) -> ProposalState:
    """Drive a proposal the ordinary way (Yokoze, two approvals of three) to `stage`.

    Awaiting assignment needs a proposal that names either town; a rollout needs members
    beyond the founding towns only if the test wants more than Bandai to be offered it.
    """
    if stage is Stage.AWAITING_ASSIGNMENT:
        return await run.at(Stage.AWAITING_ASSIGNMENT)
    await run.at(Stage.IN_REVIEW)
    if stage is Stage.IN_REVIEW:
        return await run.state()
    if stage is Stage.CHANGES_REQUESTED:
        await run.request_changes()
        return await run.at(stage)
    await run.adopt()
    if stage is Stage.ADOPTED:
        return await run.at(stage)
    if stage is Stage.PILOT_PLANNED:
        await run.plan_pilot()
        return await run.at(stage)
    await run.start_pilot()
    if stage is Stage.PILOT:
        return await run.state()
    await run.end_pilot()
    if stage is Stage.EVALUATING:
        return await run.state()
    await run.evaluate(PilotOutcome.SUCCESS)
    assert stage is Stage.ROLLOUT, f"bring_to does not go to {stage.value}"
    return await run.at(Stage.ROLLOUT)


@asynccontextmanager
async def harness_with(env: WorkflowEnvironment, pool: asyncpg.Pool, store: EventStore,
                       activities: Sequence[Callable[..., Any]]) -> AsyncIterator[Harness]:
    """A harness whose worker runs the given activity instances (same names, other code)."""
    task_queue = f"kyoso-test-{uuid.uuid4().hex[:8]}"
    async with build_worker(env.client, pool, task_queue, activities=activities):
        harness = Harness(env, pool, store, task_queue)
        try:
            yield harness
        finally:
            await harness.terminate_all()


def real_activities(pool: asyncpg.Pool, store: EventStore, mailer: SmtpMailer | None = None
                    ) -> dict[str, Any]:
    """The production activity instances, by name, for a test to replace some of them."""
    return {
        "record_events": RecordActivities(store),
        "check_intake": IntakeActivities(pool),
        "rollout_targets": NetworkActivities(pool),
        "deliver_notifications": NotifyActivities(pool, mailer),
    }


def as_worker_activities(instances: dict[str, Any]) -> list[Callable[..., Any]]:
    return [getattr(obj, name) for name, obj in instances.items()]
