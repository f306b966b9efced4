"""One company proposal, from intake to wide-area rollout: a durable workflow that drives the
domain decider. People act through Updates whose validators run the same decider, so a wrong
action is refused before it enters the history; the clock acts through ticks at deadlines.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import reduce

from temporalio import workflow
from temporalio.exceptions import CancelledError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import IntakeRequest, RolloutTargetsRequest
    from activities.intake import IntakeActivities
    from activities.network import NetworkActivities
    from domain.commands import (
        Assign,
        CastVote,
        CompleteIntake,
        CompleteRollout,
        EvaluatePilot,
        ExtendDeadline,
        FileReport,
        OfferRollout,
        PlanPilot,
        ProposalCommand,
        Refer,
        Revise,
        Submit,
        Tick,
        Withdraw,
    )
    from domain.decider import decide
    from domain.errors import DomainError
    from domain.events import RolloutSummary
    from domain.network import Municipality
    from domain.notifications import for_proposal
    from domain.people import Actor
    from domain.stages import Stage
    from domain.state import ProposalState, evolve
    from workflows import search_attributes as sa
    from workflows.contracts import BATCH_SIZE, ActionResult, BatchInput, ProposalInput, add
    from workflows.details import Publisher, proposal_attributes, proposal_details
    from workflows.ids import batch_workflow_id
    from workflows.recorder import Recorder, refusal
    from workflows.rollout import RolloutBatchWorkflow

SYSTEM = Actor.system()
ACTIVITY_TIMEOUT = timedelta(seconds=30)


def _intake_done(state: ProposalState) -> bool:
    return state.stage not in (None, Stage.SUBMITTED)


@workflow.defn
class ProposalWorkflow:
    @workflow.init
    def __init__(self, inp: ProposalInput) -> None:
        self._input = inp
        self._rec: Recorder[ProposalState, ProposalCommand] = Recorder(
            inp.snapshot or ProposalState(), decide, evolve, for_proposal, _intake_done,
            inp.undelivered)
        self._targets: list[Municipality] = []
        self._rollout: asyncio.Task[None] | None = None
        self._publisher = Publisher()

    @property
    def state(self) -> ProposalState:
        return self._rec.state

    @workflow.run
    async def run(self, inp: ProposalInput) -> ProposalState:
        if self.state.stage is None:
            await self._rec.execute(Submit(actor=inp.submitted_by, proposal_id=inp.proposal_id,
                                           proposal=inp.proposal, policies=inp.policies))
        if self.state.stage is Stage.SUBMITTED:
            await self._intake()
        while True:
            await self._rec.deliver()
            if self.state.stage is Stage.EVALUATED:
                await self._offer_rollout()
                continue
            if self.state.stage is Stage.ROLLOUT and self._rollout is None:
                self._rollout = asyncio.create_task(self._run_rollout())
            self._publish()
            if not self.state.is_open:
                break
            if self._should_continue_as_new():
                await self._continue_as_new()
            await self._wait_for_change_or_deadline()
        await self._stop_rollout()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._rec.deliver()
        return self.state

    # -- intake --------------------------------------------------------------------------------

    async def _intake(self) -> None:
        assert self.state.proposal_id is not None and self.state.fingerprint is not None
        findings = await workflow.execute_activity_method(
            IntakeActivities.check_intake,
            IntakeRequest(proposal_id=self.state.proposal_id, fingerprint=self.state.fingerprint),
            start_to_close_timeout=ACTIVITY_TIMEOUT, summary="intake checks")
        await self._rec.execute(CompleteIntake(
            actor=SYSTEM, open_towns=frozenset(findings.open_towns),
            duplicate_of=findings.duplicate_of))

    # -- waiting -------------------------------------------------------------------------------

    async def _wait_for_change_or_deadline(self) -> None:
        wait = self.state.waiting_for()
        await self._rec.wait_for_change_or_deadline(
            self.state.next_wakeup(), Tick(actor=SYSTEM),
            f"next deadline moment ({wait.kind.value})" if wait else "next scheduled moment")

    def _publish(self) -> None:
        self._publisher.publish(proposal_attributes(self.state), proposal_details(self.state))

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return self._rollout is None and (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.history_limit)

    async def _continue_as_new(self) -> None:
        await self._rec.deliver()
        # Nothing may await between this wait and continuing: an Update accepted meanwhile
        # (during the delivery, say) would be cut off, its events recorded but not carried.
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self._input.model_copy(update={
            "snapshot": self.state, "undelivered": list(self._rec.undelivered)}))

    # -- rollout -------------------------------------------------------------------------------

    async def _offer_rollout(self) -> None:
        assert self.state.town is not None
        targets = await workflow.execute_activity_method(
            NetworkActivities.rollout_targets, RolloutTargetsRequest(host_town=self.state.town),
            start_to_close_timeout=ACTIVITY_TIMEOUT, summary="load the network's members")
        self._targets = targets.members
        try:
            await self._rec.execute(OfferRollout(
                actor=SYSTEM, members=tuple(m.lgcode for m in targets.members)))
        except DomainError:
            # The proposal was withdrawn while the members were being read: offer nothing.
            if self.state.stage is Stage.EVALUATED:
                raise

    async def _run_rollout(self) -> None:
        s = self.state
        assert s.proposal is not None and s.proposal_id is not None and s.town is not None
        policy = s.town_policy()
        handles = []
        for i in range(0, len(self._targets), BATCH_SIZE):
            batch = i // BATCH_SIZE
            members = self._targets[i:i + BATCH_SIZE]
            handles.append(await workflow.start_child_workflow(
                RolloutBatchWorkflow.run,
                BatchInput(proposal_id=s.proposal_id, batch=batch, host_town=s.town,
                           title=s.proposal.title, members=members,
                           window=policy.rollout_window, deployment=policy.deployment,
                           secretariat_email=policy.secretariat_email),
                id=batch_workflow_id(s.proposal_id, batch),
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
                static_summary=f"{s.proposal_id} rollout batch {batch}: {len(members)} members",
                search_attributes=sa.typed(proposal_id=s.proposal_id, town=s.town.value,
                                           theme=s.proposal.theme.value, stage="rollout"),
            ))
        summaries: list[RolloutSummary] = list(await asyncio.gather(*handles))
        await self._rec.execute(CompleteRollout(
            actor=SYSTEM, summary=reduce(add, summaries, RolloutSummary())))

    async def _stop_rollout(self) -> None:
        """After a withdrawal mid-rollout: cancel the batches, which withdraw their offers."""
        if self._rollout is None or self._rollout.done():
            return
        self._rollout.cancel()
        try:
            await self._rollout
        except asyncio.CancelledError:
            pass
        except ChildWorkflowError as err:
            # A cancelled child resolves its handle with this error, caused by the cancel.
            if not isinstance(err.cause, CancelledError):
                raise

    # -- actions -------------------------------------------------------------------------------

    async def _act(self, command: ProposalCommand) -> ActionResult:
        try:
            events = await self._rec.act(command)
        except DomainError as err:
            raise refusal(err) from None
        s = self.state
        assert s.proposal_id is not None and s.stage is not None
        return ActionResult(proposal_id=s.proposal_id, stage=s.stage.value, version=s.version,
                            events=[e.type for e in events], adoption_number=s.adoption_number)

    @workflow.query
    def current_state(self) -> ProposalState:
        return self.state

    @workflow.update
    async def vote(self, command: CastVote) -> ActionResult:
        return await self._act(command)

    @vote.validator
    def _validate_vote(self, command: CastVote) -> None:
        self._rec.validate(command)

    @workflow.update
    async def revise(self, command: Revise) -> ActionResult:
        return await self._act(command)

    @revise.validator
    def _validate_revise(self, command: Revise) -> None:
        self._rec.validate(command)

    @workflow.update
    async def withdraw(self, command: Withdraw) -> ActionResult:
        return await self._act(command)

    @withdraw.validator
    def _validate_withdraw(self, command: Withdraw) -> None:
        self._rec.validate(command)

    @workflow.update
    async def file_report(self, command: FileReport) -> ActionResult:
        return await self._act(command)

    @file_report.validator
    def _validate_file_report(self, command: FileReport) -> None:
        self._rec.validate(command)

    @workflow.update
    async def assign(self, command: Assign) -> ActionResult:
        return await self._act(command)

    @assign.validator
    def _validate_assign(self, command: Assign) -> None:
        self._rec.validate(command)

    @workflow.update
    async def refer(self, command: Refer) -> ActionResult:
        return await self._act(command)

    @refer.validator
    def _validate_refer(self, command: Refer) -> None:
        self._rec.validate(command)

    @workflow.update
    async def extend_deadline(self, command: ExtendDeadline) -> ActionResult:
        return await self._act(command)

    @extend_deadline.validator
    def _validate_extend_deadline(self, command: ExtendDeadline) -> None:
        self._rec.validate(command)

    @workflow.update
    async def plan_pilot(self, command: PlanPilot) -> ActionResult:
        return await self._act(command)

    @plan_pilot.validator
    def _validate_plan_pilot(self, command: PlanPilot) -> None:
        self._rec.validate(command)

    @workflow.update
    async def evaluate_pilot(self, command: EvaluatePilot) -> ActionResult:
        return await self._act(command)

    @evaluate_pilot.validator
    def _validate_evaluate_pilot(self, command: EvaluatePilot) -> None:
        self._rec.validate(command)
