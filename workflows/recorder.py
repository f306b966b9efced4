"""Decide, record, fold: the one path by which a workflow changes its stream.

Shared by the proposal workflow and the member workflows. An asyncio lock serialises Update
handlers and the clock, so every decision sees the state the previous one left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import DeliveryRequest, RecordRequest, RecordResult
    from activities.notify import NotifyActivities
    from activities.records import RecordActivities
    from domain.commands import Context
    from domain.errors import DomainError
    from domain.events import Event, ProposalAdopted
    from domain.notifications import Notification
    from workflows.contracts import DELIVERY_TIMEOUT, RECORD_TIMEOUT

class Versioned(Protocol):
    @property
    def version(self) -> int: ...


S = TypeVar("S", bound=Versioned)
C = TypeVar("C")

# Validators decide on a copy of the state and discard the events: any id will do.
VALIDATION_ID = UUID(int=0)

RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    # A stale version or a reused event id is a bug, not weather: retrying cannot help.
    non_retryable_error_types=["ConcurrencyError", "IdempotencyConflict"],
)
DELIVERY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), backoff_coefficient=2.0,
                             maximum_interval=timedelta(minutes=10))


def refusal(err: DomainError) -> ApplicationError:
    """A domain refusal as the failure an Update's caller receives."""
    return ApplicationError(err.message, type=err.code.value, non_retryable=True)


class Recorder(Generic[S, C]):
    def __init__(
        self,
        state: S,
        decide: Callable[[S, C, Context], list[Event]],
        evolve: Callable[[S, Event], S],
        notify: Callable[[S, Sequence[Event]], list[Notification]],
        ready: Callable[[S], bool],
        undelivered: Sequence[str] = (),
    ) -> None:
        self.state = state
        self._ready = ready
        self.lock = asyncio.Lock()
        self.undelivered: list[str] = list(undelivered)
        self._decide = decide
        self._evolve = evolve
        self._notify = notify

    def validate(self, command: C) -> None:
        """For Update validators: refuse now what `execute` would refuse.

        Until the stream is ready for people (intake done), nothing can be judged yet: the
        action is accepted and waits, then `act` decides it.
        """
        if not self._ready(self.state):
            return
        try:
            self._decide(self.state, command, Context(VALIDATION_ID, workflow.now()))
        except DomainError as err:
            raise refusal(err) from None

    async def act(self, command: C) -> list[Event]:
        """A person's action: waits until the stream is ready for people, then executes."""
        await workflow.wait_condition(lambda: self._ready(self.state))
        return await self.execute(command)

    async def execute(self, command: C) -> list[Event]:
        async with self.lock:
            # Once decided, a command is recorded and folded even if the workflow is cancelled
            # meanwhile (a withdrawn rollout cancels its members): an event in the store that
            # the state lacks would make every later append fail. The cancellation is raised
            # when the recording is done.
            recording = asyncio.ensure_future(self._execute_locked(command))
            try:
                return await asyncio.shield(recording)
            except asyncio.CancelledError:
                await recording
                raise

    async def _execute_locked(self, command: C) -> list[Event]:
        ctx = Context(workflow.uuid4(), workflow.now())
        events = self._decide(self.state, command, ctx)
        if not events:
            return []
        notes = self._notify(self.state, events)
        result: RecordResult = await workflow.execute_activity_method(
            RecordActivities.record_events,
            RecordRequest(stream_id=events[0].stream_id, expected_version=self.state.version,
                          events=events, notifications=notes),
            start_to_close_timeout=RECORD_TIMEOUT, retry_policy=RECORD_RETRY,
            summary="record " + ", ".join(e.type for e in events),
        )
        if result.adoption_number is not None:
            events = [e.model_copy(update={"adoption_number": result.adoption_number})
                      if isinstance(e, ProposalAdopted) else e for e in events]
        for e in events:
            self.state = self._evolve(self.state, e)
        noted = {n.event_id for n in notes}
        self.undelivered += [str(e.event_id) for e in events if e.event_id in noted]
        return events

    async def wait_for_change_or_deadline(self, wake: datetime | None, tick: C,
                                          summary: str) -> None:
        """Sleep until the state changes, notifications await delivery, or `wake` comes;
        at `wake`, decide `tick` so the clock's moments are handled."""
        version = self.state.version
        now = workflow.now()
        if wake is not None and wake <= now:
            await self.execute(tick)
            return
        try:
            await workflow.wait_condition(
                lambda: self.state.version != version or bool(self.undelivered),
                timeout=(wake - now) if wake else None, timeout_summary=summary)
        except TimeoutError:
            await self.execute(tick)

    async def deliver(self) -> None:
        """Send what recorded events left in the outbox; the activity is idempotent."""
        while self.undelivered:
            batch = self.undelivered[:100]
            try:
                await workflow.execute_activity_method(
                    NotifyActivities.deliver_notifications,
                    DeliveryRequest(event_ids=[UUID(i) for i in batch]),
                    start_to_close_timeout=DELIVERY_TIMEOUT, retry_policy=DELIVERY_RETRY,
                    summary=f"deliver notifications of {len(batch)} event(s)",
                )
            except ActivityError as err:
                # The workflow was cancelled while delivering: raise it as the cancellation
                # it is (the batch stays undelivered, and a later delivery sends it).
                if isinstance(err.cause, CancelledError):
                    raise asyncio.CancelledError from err
                raise
            del self.undelivered[: len(batch)]

