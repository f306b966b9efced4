"""The demo scenario: a dozen proposals from fictional companies that together walk every path
of the lifecycle, driven through the same Updates the secretariat's CLI sends.

Deadlines are weeks long in real policies; the demo's policies are the shipped committees
with waits of seconds (scaled by `pace`), so expiry, routing and rollout happen while you
watch. Everything else is the production code path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from domain.commands import (
    Assign,
    CastVote,
    DeclineRollout,
    EvaluatePilot,
    FileReport,
    JoinRollout,
    PlanPilot,
    Refer,
    ReportDeployed,
    Revise,
    Withdraw,
)
from domain.deadlines import DeadlinePolicy
from domain.events import VoteDecision
from domain.people import Actor
from domain.pilot import Kpi, KpiValue, PilotEvaluation, PilotOutcome, PilotPlan, PilotReport
from domain.policy import ProgrammePolicies
from domain.proposal import Contact, Proposal, ProposalRevision, Proposer, Theme
from domain.stages import Stage
from domain.state import ProposalState
from domain.values import PreferredTown, Role, Town, today_jst
from workflows.client import member_handle, start_proposal
from workflows.membership import MembershipWorkflow
from workflows.proposal import ProposalWorkflow

SECRETARIAT = Actor(role=Role.SECRETARIAT, id="demo-office")
PROPOSER = Actor(role=Role.PROPOSER, id="proposer")
YOKOZE_VOTERS = ("yokoze-tanaka", "yokoze-suzuki", "yokoze-ito")
BANDAI_VOTERS = ("bandai-kobayashi", "bandai-kato")
# Members of the wide-area network besides the founding towns (Chichibu area and Aizu area).
NETWORK = ("112071", "113620", "113638", "113654", "074021", "074080")


def demo_policies(base: ProgrammePolicies, pace: float = 1.0) -> ProgrammePolicies:
    """The shipped committees with demo-length waits: `pace` seconds stand for a unit."""

    def wait(units: float, remind: float = 0, grace: float = 0) -> DeadlinePolicy:
        return DeadlinePolicy(days=f"{units * pace:.1f}s", remind_days_before=f"{remind * pace:.1f}s",
                              grace_days=f"{grace * pace:.1f}s")

    month = DeadlinePolicy(days=30, remind_days_before=7, grace_days=30)
    yokoze = base.yokoze.model_copy(update={
        "review": wait(100, 40, 40), "assignment": wait(40, 20), "revision": month,
        "pilot_plan": month, "report": wait(20, 10), "evaluation": month,
        "rollout_window": wait(60, 30), "deployment": month})
    bandai = base.bandai.model_copy(update={
        "review": month, "assignment": wait(40, 20), "revision": month, "pilot_plan": month,
        "report": month, "evaluation": month, "rollout_window": month, "deployment": month})
    return base.model_copy(update={"yokoze": yokoze, "bandai": bandai})


def _proposal(org: str, person: str, email: str, title: str, summary: str, theme: Theme,
              town: PreferredTown, tag: str,
              kind: Literal["company", "group", "individual"] = "company") -> Proposal:
    return Proposal(
        proposer=Proposer(organisation=org, kind=kind,
                          contact=Contact(name=person, email=email)),
        title=f"{title} {tag}".strip(), summary=summary, theme=theme,
        requested_support="Introductions to residents and a place to work from.",
        preferred_town=town)


@dataclass
class Case:
    """One demo proposal: who proposes what, the path it walks, where it must end."""

    key: str
    proposal: Proposal
    path: str
    expect: Stage
    steps: int
    handle: WorkflowHandle[ProposalWorkflow, ProposalState] | None = None
    done: int = 0
    notes: list[str] = field(default_factory=list)
    # Set once the workflow is started, so that cases acting on this one can wait for it.
    submitted: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def proposal_id(self) -> str:
        assert self.handle is not None
        return self.handle.id.removeprefix("proposal-")


class Demo:
    def __init__(self, client: Client, task_queue: str, policies: ProgrammePolicies,
                 pace: float = 1.0, tag: str = "", on_step: Callable[[], None] | None = None
                 ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.policies = policies
        self.pace = pace
        self.tag = tag
        self.on_step = on_step or (lambda: None)
        self.cases = self._cases()

    # -- the twelve proposals -------------------------------------------------------------------

    def _cases(self) -> list[Case]:
        t = self.tag
        P, Y, B, E = _proposal, PreferredTown.YOKOZE, PreferredTown.BANDAI, PreferredTown.EITHER
        return [
            Case("bus", P("Satoyama Mobility K.K.", "山田 花子", "hanako@satoyama.example.com",
                          "AI on-demand minibus", "A shared minibus booked by phone or LINE, "
                          "routed each morning by an AI dispatcher.", Theme.MOBILITY, Y, t),
                 "adopted → pilot → rollout joined by three towns → completed",
                 Stage.COMPLETED, 9),
            Case("kiosk", P("Aizu Cloud Works G.K.", "佐々木 亮", "ryo@aizu-cloud.example.com",
                            "Self-service DX kiosk", "Kiosks where residents file procedures "
                            "with their My Number card, with remote help by video.",
                            Theme.DX, B, t),
                 "adopted (Bandai) → pilot → extended", Stage.PILOT, 5),
            Case("drone", P("Chichibu Agri Sky", "高橋 実", "minoru@agrisky.example.org",
                            "Drone pest monitoring", "Weekly drone flights over orchards detect "
                            "pests early and send growers a map.", Theme.AGRICULTURE, E, t,
                            kind="group"),
                 "either town → assigned to Yokoze → adopted", Stage.ADOPTED, 3),
            Case("solar", P("Musashi Solar K.K.", "中村 翔", "sho@musashi-solar.example.com",
                            "Solar carports at the town hall", "Carports with solar panels "
                            "and two charging points for electric cars.", Theme.ENVIRONMENT, Y,
                            t), "rejected by Yokolab", Stage.REJECTED, 2),
            Case("coding", P("Hanno Kids Lab", "小川 由美", "yumi@kidslab.example.org",
                             "After-school coding club", "A weekly coding club for primary "
                             "school children in the community centre.", Theme.EDUCATION, Y, t,
                             kind="group"),
                 "changes requested → revised → adopted", Stage.ADOPTED, 4),
            Case("onsen", P("Bandai Onsen Tourism Association", "斎藤 健一",
                            "kenichi@bandai-onsen.example.org", "Onsen workation weeks",
                            "Remote workers stay a week at a hot-spring inn and work from the "
                            "co-working space.", Theme.TOURISM, Y, t, kind="group"),
                 "referred from Yokoze to Bandai → adopted", Stage.ADOPTED, 3),
            Case("compost", P("Green Loop Recycling K.K.", "松本 彩", "aya@greenloop.example.com",
                              "Community composting", "Collection of kitchen waste for compost "
                              "used by local farms.", Theme.ENVIRONMENT, Y, t),
                 "withdrawn during review", Stage.WITHDRAWN, 2),
            Case("forest", P("Forest Sound Studio", "井上 蓮", "ren@forestsound.example.com",
                             "Forest bathing audio guide", "An app guiding visitors through "
                             "forest trails with sound and stories.", Theme.TOURISM, Y, t,
                             kind="individual"),
                 "no decision by the deadline → escalated → expired", Stage.EXPIRED, 2),
            Case("health", P("Tsukuba Health Tech K.K.", "木村 光", "hikaru@tsukuba-ht.example.com",
                             "Remote health checks", "Monthly video health checks for elderly "
                             "residents living alone.", Theme.HEALTH, E, t),
                 "either town, not assigned in time → routed by rule → adopted",
                 Stage.ADOPTED, 3),
            Case("duplicate", P("Satoyama Mobility K.K.", "山田 花子",
                                "hanako@satoyama.example.com", "AI on-demand minibus",
                                "A shared minibus booked by phone or LINE, routed each morning "
                                "by an AI dispatcher.", Theme.MOBILITY, Y, t),
                 "exact resubmission of an open proposal → rejected at intake",
                 Stage.REJECTED_AT_INTAKE, 1),
            Case("snow", P("Aizu Snow Robotics", "林 大地", "daichi@snowrobo.example.com",
                           "Snow-clearing robots", "Small robots clear snow from pavements "
                           "near the station on winter mornings.", Theme.DISASTER_PREVENTION,
                           B, t), "Bandai intake paused → rejected at intake",
                 Stage.REJECTED_AT_INTAKE, 1),
            Case("playground", P("Chichibu Rail Services", "森 智子", "tomoko@chichibu-rail.example.com",
                                 "Wooden playground at the station", "A playground of local "
                                 "cedar next to the station, built with residents.",
                                 Theme.CHILDCARE, Y, t),
                 "conflicted reviewer excluded → adopted → pilot → stopped", Stage.STOPPED, 5),
        ]

    # -- helpers --------------------------------------------------------------------------------

    def _step(self, case: Case, note: str) -> None:
        case.done += 1
        case.notes.append(note)
        self.on_step()

    async def _submit(self, case: Case) -> WorkflowHandle[ProposalWorkflow, ProposalState]:
        case.handle = await start_proposal(self.client, case.proposal, self.policies,
                                           task_queue=self.task_queue, submitted_by=SECRETARIAT)
        case.submitted.set()
        return case.handle

    async def _until(self, case: Case, *stages: Stage) -> ProposalState:
        loop = asyncio.get_running_loop()
        end = loop.time() + 600 * max(self.pace, 1.0)
        await case.submitted.wait()  # another case's task may not have submitted it yet
        assert case.handle is not None
        while True:
            state = await case.handle.query(ProposalWorkflow.current_state)
            if state.stage in stages:
                return state
            if loop.time() > end:
                raise TimeoutError(f"{case.key} stayed {state.stage} (waiting for {stages})")
            await asyncio.sleep(0.3)

    async def _votes(self, case: Case, voters: tuple[str, ...], decision: VoteDecision,
                     comment: str) -> None:
        await self._until(case, Stage.IN_REVIEW)
        assert case.handle is not None
        for reviewer in voters:
            state = await case.handle.query(ProposalWorkflow.current_state)
            if state.stage is not Stage.IN_REVIEW:
                break
            await case.handle.execute_update(ProposalWorkflow.vote, CastVote(
                actor=Actor(role=Role.REVIEWER, id=reviewer), decision=decision, comment=comment))

    async def _pilot(self, case: Case, seconds: float) -> None:
        """Plan a pilot that starts in a few seconds and lasts `seconds` (times pace)."""
        assert case.handle is not None
        now = datetime.now(UTC)
        today = today_jst(now)
        start = now + timedelta(seconds=3 * self.pace)
        plan = PilotPlan(start_date=today, end_date=today + timedelta(days=1),
                         exact_start=start, exact_end=start + timedelta(seconds=seconds * self.pace),
                         kpis=(Kpi(name="users per week", target="50"),))
        await case.handle.execute_update(ProposalWorkflow.plan_pilot,
                                         PlanPilot(actor=SECRETARIAT, plan=plan))

    async def _evaluate(self, case: Case, outcome: PilotOutcome, **kw: Any) -> None:
        assert case.handle is not None
        await self._until(case, Stage.EVALUATING)
        await case.handle.execute_update(ProposalWorkflow.evaluate_pilot, EvaluatePilot(
            actor=SECRETARIAT, evaluation=PilotEvaluation(outcome=outcome,
                                                          comment="Evaluated by the office.", **kw)))

    async def _member(self, case: Case, lgcode: str) -> WorkflowHandle[MembershipWorkflow, Any]:
        """The member's workflow, once its batch has started it."""
        handle = member_handle(self.client, case.proposal_id, lgcode)
        for _ in range(200):
            try:
                await handle.describe()
                break
            except RPCError:
                await asyncio.sleep(0.3)
        return handle

    # -- the paths ------------------------------------------------------------------------------

    async def bus(self, case: Case) -> None:
        h = await self._submit(case)
        self._step(case, "submitted")
        await self._votes(case, YOKOZE_VOTERS, VoteDecision.APPROVE, "Residents need this.")
        self._step(case, "adopted")
        await self._pilot(case, 40)
        self._step(case, "pilot planned")
        await self._until(case, Stage.PILOT)
        await h.execute_update(ProposalWorkflow.file_report, FileReport(
            actor=PROPOSER, report=PilotReport(summary="40 riders in the first week.",
                                               kpis=(KpiValue(name="users per week", value="40"),))))
        self._step(case, "report filed")
        await self._evaluate(case, PilotOutcome.SUCCESS)
        self._step(case, "evaluated: success")
        await self._until(case, Stage.ROLLOUT)
        joining, declining = ("112071", "113620", "074080"), ("113638", Town.BANDAI.lgcode)
        for code in joining:
            member = await self._member(case, code)
            await member.execute_update(MembershipWorkflow.join,
                                        JoinRollout(actor=Actor(role=Role.MEMBER, id=code)))
        self._step(case, "three towns joined")
        for code in declining:
            member = await self._member(case, code)
            await member.execute_update(MembershipWorkflow.decline, DeclineRollout(
                actor=Actor(role=Role.MEMBER, id=code), reason="No budget this year."))
        for code in joining:
            member = await self._member(case, code)
            await member.execute_update(MembershipWorkflow.deployed, ReportDeployed(
                actor=Actor(role=Role.MEMBER, id=code), note="In service."))
        self._step(case, "deployed; two declined, two silent")
        await self._until(case, Stage.COMPLETED)
        self._step(case, "completed")

    async def kiosk(self, case: Case) -> None:
        await self._submit(case)
        self._step(case, "submitted")
        await self._votes(case, BANDAI_VOTERS, VoteDecision.APPROVE, "A good DX showcase.")
        self._step(case, "adopted by Bandai")
        await self._pilot(case, 25)
        self._step(case, "pilot planned")
        await self._evaluate(case, PilotOutcome.EXTEND,
                             new_end_date=today_jst(datetime.now(UTC)) + timedelta(days=60))
        self._step(case, "extended")
        await self._until(case, Stage.PILOT)
        self._step(case, "pilot runs on")

    async def drone(self, case: Case) -> None:
        h = await self._submit(case)
        await self._until(case, Stage.AWAITING_ASSIGNMENT)
        self._step(case, "awaiting assignment")
        await h.execute_update(ProposalWorkflow.assign, Assign(actor=SECRETARIAT, town=Town.YOKOZE))
        self._step(case, "assigned to Yokoze")
        await self._votes(case, YOKOZE_VOTERS, VoteDecision.APPROVE, "Growers asked for it.")
        self._step(case, "adopted")

    async def solar(self, case: Case) -> None:
        await self._submit(case)
        self._step(case, "submitted")
        await self._votes(case, YOKOZE_VOTERS, VoteDecision.REJECT, "The site is protected.")
        self._step(case, "rejected")

    async def coding(self, case: Case) -> None:
        h = await self._submit(case)
        self._step(case, "submitted")
        await self._votes(case, YOKOZE_VOTERS, VoteDecision.REQUEST_CHANGES,
                          "Say who supervises the children.")
        self._step(case, "changes requested")
        await h.execute_update(ProposalWorkflow.revise, Revise(actor=PROPOSER, revision=ProposalRevision(
            summary="A weekly coding club for primary school children in the community centre, "
                    "supervised by two certified teachers.", note="Added supervision.")))
        self._step(case, "revised")
        await self._votes(case, YOKOZE_VOTERS, VoteDecision.APPROVE, "Thank you, approved.")
        self._step(case, "adopted")

    async def onsen(self, case: Case) -> None:
        h = await self._submit(case)
        self._step(case, "submitted")
        await self._until(case, Stage.IN_REVIEW)
        await h.execute_update(ProposalWorkflow.refer, Refer(
            actor=Actor(role=Role.REVIEWER, id="yokoze-tanaka"), to_town=Town.BANDAI,
            reason="Bandai's onsen inns are the natural field."))
        self._step(case, "referred to Bandai")
        await self._votes(case, BANDAI_VOTERS, VoteDecision.APPROVE, "Welcome to Bandai.")
        self._step(case, "adopted by Bandai")

    async def compost(self, case: Case) -> None:
        h = await self._submit(case)
        self._step(case, "submitted")
        await self._until(case, Stage.IN_REVIEW)
        await h.execute_update(ProposalWorkflow.withdraw, Withdraw(
            actor=PROPOSER, reason="We found a partner closer to our plant."))
        self._step(case, "withdrawn")

    async def forest(self, case: Case) -> None:
        await self._submit(case)
        self._step(case, "submitted")
        await self._until(case, Stage.EXPIRED)
        self._step(case, "expired after reminder and escalation")

    async def health(self, case: Case) -> None:
        await self._submit(case)
        self._step(case, "submitted")
        await self._until(case, Stage.IN_REVIEW)
        self._step(case, "routed by rule")
        await self._votes(case, YOKOZE_VOTERS, VoteDecision.APPROVE, "Important for elders.")
        self._step(case, "adopted")

    async def duplicate(self, case: Case) -> None:
        await self._until(self._case("bus"), Stage.IN_REVIEW, Stage.ADOPTED, Stage.PILOT_PLANNED)
        await self._submit(case)
        await self._until(case, Stage.REJECTED_AT_INTAKE)
        self._step(case, "rejected at intake")

    async def snow(self, case: Case) -> None:
        await self._submit(case)
        await self._until(case, Stage.REJECTED_AT_INTAKE)
        self._step(case, "rejected at intake")

    async def playground(self, case: Case) -> None:
        await self._submit(case)
        self._step(case, "submitted (yokoze-sato excluded)")
        await self._votes(case, YOKOZE_VOTERS, VoteDecision.APPROVE, "Good for families.")
        self._step(case, "adopted")
        await self._pilot(case, 20)
        self._step(case, "pilot planned")
        await self._evaluate(case, PilotOutcome.STOP)
        self._step(case, "stopped")
        await self._until(case, Stage.STOPPED)
        self._step(case, "closed")

    def _case(self, key: str) -> Case:
        return next(c for c in self.cases if c.key == key)

    async def run(self, pause_intake: Callable[[Town, bool], Awaitable[None]]) -> list[Case]:
        """Run the cases; `pause_intake` pauses or resumes a town's intake (in PostgreSQL).

        Bandai's intake is paused only while the snow-robot proposal arrives; the other
        cases then run all at once, as they would in a busy month.
        """
        await pause_intake(Town.BANDAI, True)
        try:
            await self.snow(self._case("snow"))
        finally:
            await pause_intake(Town.BANDAI, False)
        await asyncio.gather(*(getattr(self, c.key)(c) for c in self.cases if c.key != "snow"))
        return self.cases

    @property
    def total_steps(self) -> int:
        return sum(c.steps for c in self.cases)
