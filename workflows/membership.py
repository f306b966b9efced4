"""One member municipality's part in a rollout: joins or declines within the window, and
once joined, is tracked until it reports the deployment."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.commands import (
        DeclineRollout,
        ExtendDeadline,
        JoinRollout,
        MemberCommand,
        OfferMembership,
        ReportDeployed,
        Tick,
        WithdrawOffer,
    )
    from domain.errors import DomainError
    from domain.events import Event
    from domain.notifications import Notification, for_member
    from domain.people import Actor
    from domain.rollout import MembershipState, decide_member, evolve_member
    from workflows.contracts import ActionResult, MemberInput, MemberOutcome
    from workflows.details import Publisher, member_attributes, member_details
    from workflows.recorder import Recorder, refusal

SYSTEM = Actor.system()


@workflow.defn
class MembershipWorkflow:
    @workflow.init
    def __init__(self, inp: MemberInput) -> None:
        self._input = inp

        def notify(state: MembershipState, events: Sequence[Event]) -> list[Notification]:
            return for_member(state, events, inp.secretariat_email)

        self._rec: Recorder[MembershipState, MemberCommand] = Recorder(
            inp.snapshot or MembershipState(), decide_member, evolve_member, notify,
            lambda state: state.status is not None, inp.undelivered)
        self._publisher = Publisher()

    @property
    def state(self) -> MembershipState:
        return self._rec.state

    @workflow.run
    async def run(self, inp: MemberInput) -> MemberOutcome:
        try:
            if self.state.status is None:
                await self._rec.execute(OfferMembership(
                    actor=SYSTEM, proposal_id=inp.proposal_id, municipality=inp.municipality,
                    host_town=inp.host_town, title=inp.title, window=inp.window,
                    deployment=inp.deployment))
            while self.state.is_open:
                await self._rec.deliver()
                self._publish()
                if not self.state.is_open:
                    break  # the member answered while its notifications were being sent
                await self._wait_for_change_or_deadline()
        except asyncio.CancelledError:
            # The proposal was withdrawn: tell the member its offer no longer stands.
            if self.state.is_open:
                await self._rec.execute(WithdrawOffer(
                    actor=SYSTEM, reason="the proposal was withdrawn by its proposer"))
        self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._rec.deliver()
        assert self.state.status is not None
        return MemberOutcome(lgcode=inp.municipality.lgcode, status=self.state.status)

    async def _wait_for_change_or_deadline(self) -> None:
        await self._rec.wait_for_change_or_deadline(
            self.state.next_wakeup(), Tick(actor=SYSTEM), "next deadline moment")

    def _publish(self) -> None:
        self._publisher.publish(member_attributes(self.state), member_details(self.state))

    async def _act(self, command: MemberCommand) -> ActionResult:
        try:
            events = await self._rec.act(command)
        except DomainError as err:
            raise refusal(err) from None
        s = self.state
        assert s.proposal_id is not None and s.status is not None
        return ActionResult(proposal_id=s.proposal_id, stage=s.status.value, version=s.version,
                            events=[e.type for e in events])

    @workflow.query
    def current_state(self) -> MembershipState:
        return self.state

    @workflow.update
    async def join(self, command: JoinRollout) -> ActionResult:
        return await self._act(command)

    @join.validator
    def _validate_join(self, command: JoinRollout) -> None:
        self._rec.validate(command)

    @workflow.update
    async def decline(self, command: DeclineRollout) -> ActionResult:
        return await self._act(command)

    @decline.validator
    def _validate_decline(self, command: DeclineRollout) -> None:
        self._rec.validate(command)

    @workflow.update
    async def deployed(self, command: ReportDeployed) -> ActionResult:
        return await self._act(command)

    @deployed.validator
    def _validate_deployed(self, command: ReportDeployed) -> None:
        self._rec.validate(command)

    @workflow.update
    async def extend_deadline(self, command: ExtendDeadline) -> ActionResult:
        return await self._act(command)

    @extend_deadline.validator
    def _validate_extend_deadline(self, command: ExtendDeadline) -> None:
        self._rec.validate(command)
