"""The floor: bare workflows with the shape of kyoso's lifecycle and nothing else.

`FloorLifecycle` has the proposal workflow's Updates, timers, activities and child workflow
in the same order (seen in a recorded kyoso history): each Update runs one activity under a
lock, as a decision is recorded; the main loop "delivers" after each change, sleeps until the
next moment with the same durations (23 days for a person's wait, the pilot's exact start and
end), and a rollout starts one `FloorBatch`, which starts a `FloorMember` per member, each
with its two Updates. Every activity is one no-op; nothing is decided, stored or published
(kyoso's search-attribute upserts and current details have no counterpart here).

Per lifecycle, as in kyoso: 7 + 2 per member Updates, 25 + 6 per member activities, 9 + 2 per
member timers (2 fire), 1 + members child workflows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

SUBMITTED, IN_REVIEW, ADOPTED, PILOT_PLANNED, PILOT = (
    "submitted", "in_review", "adopted", "pilot_planned", "pilot")
EVALUATING, EVALUATED, ROLLOUT, COMPLETED = "evaluating", "evaluated", "rollout", "completed"
QUORUM = 3
PERSON_WAIT = timedelta(days=23)  # kyoso's first moment of a month-long wait: its reminder
TIMEOUT = timedelta(seconds=30)


@activity.defn(name="floor_noop")
async def noop(what: str) -> None:
    """Does nothing: stands for recording events, intake checks, delivery, member lookup."""


async def call(what: str) -> None:
    await workflow.execute_activity(noop, what, start_to_close_timeout=TIMEOUT)


def member_id(parent_id: str, lgcode: str) -> str:
    return f"{parent_id}-member-{lgcode}"


@dataclass(frozen=True)
class Start:
    members: list[str]


@dataclass(frozen=True)
class Plan:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BatchStart:
    parent_id: str
    members: list[str]


@workflow.defn
class FloorMember:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._status = "offered"
        self._version = 0
        self._undelivered = False

    @workflow.run
    async def run(self, lgcode: str) -> str:
        async with self._lock:
            await call("record")  # member_offered
            self._version, self._undelivered = 1, True
        while self._status != "deployed":
            if self._undelivered:
                self._undelivered = False
                await call("deliver")
            if self._status == "deployed":
                break
            try:
                await workflow.wait_condition(self._changed_since(self._version),
                                              timeout=PERSON_WAIT)
            except TimeoutError:
                await call("record")  # a tick: never reached in a benchmark
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._undelivered:
            await call("deliver")
        return self._status

    def _changed_since(self, version: int) -> Callable[[], bool]:
        return lambda: self._version != version or self._undelivered

    async def _act(self, status: str, *allowed: str) -> str:
        async with self._lock:
            if self._status not in allowed:
                raise ApplicationError(f"not now: the member is {self._status}",
                                       type="wrong_stage", non_retryable=True)
            await call("record")
            self._version += 1
            self._status, self._undelivered = status, True
        return status

    @workflow.update
    async def join(self, lgcode: str) -> str:
        return await self._act("joined", "offered")

    @join.validator
    def _validate_join(self, lgcode: str) -> None:
        if self._status != "offered":
            raise ValueError(f"{lgcode} already answered")

    @workflow.update
    async def deployed(self, lgcode: str) -> str:
        return await self._act("deployed", "offered", "joined")

    @deployed.validator
    def _validate_deployed(self, lgcode: str) -> None:
        if self._status not in ("offered", "joined"):
            raise ValueError(f"{lgcode} cannot deploy now")


@workflow.defn
class FloorBatch:
    @workflow.run
    async def run(self, inp: BatchStart) -> int:
        handles = await asyncio.gather(*(
            workflow.start_child_workflow(FloorMember.run, code, id=member_id(inp.parent_id, code))
            for code in inp.members))
        outcomes = await asyncio.gather(*handles)
        return sum(1 for o in outcomes if o == "deployed")


@workflow.defn
class FloorLifecycle:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._stage = SUBMITTED
        self._version = 0
        self._votes = 0
        self._undelivered = False
        self._wake: datetime | None = None
        self._rollout: asyncio.Task[None] | None = None
        self._members: list[str] = []
        self._plan: Plan | None = None

    @workflow.run
    async def run(self, inp: Start) -> str:
        self._members = inp.members
        await call("record")  # proposal_submitted
        await call("intake")
        await call("record")  # intake_accepted, review_started
        self._change(IN_REVIEW, wake=workflow.now() + PERSON_WAIT)
        while True:
            if self._undelivered:
                self._undelivered = False
                await call("deliver")
            if self._stage == EVALUATED:
                await call("targets")
                await call("record")  # rollout_offered
                self._change(ROLLOUT, wake=None)
                continue
            if self._stage == ROLLOUT and self._rollout is None:
                self._rollout = asyncio.create_task(self._run_rollout())
            if self._stage == COMPLETED:
                break
            await self._wait()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._undelivered:
            await call("deliver")
        return self._stage

    def _change(self, stage: str, *, wake: datetime | None, deliver: bool = True) -> None:
        self._stage, self._wake = stage, wake
        self._version += 1
        self._undelivered = self._undelivered or deliver

    async def _wait(self) -> None:
        version = self._version
        now = workflow.now()
        if self._wake is not None and self._wake <= now:  # the moment passed meanwhile
            async with self._lock:
                await self._tick()
            return
        timeout = (self._wake - now) if self._wake else None
        try:
            await workflow.wait_condition(
                lambda: self._version != version or self._undelivered, timeout=timeout)
        except TimeoutError:
            async with self._lock:
                await self._tick()

    async def _tick(self) -> None:
        await call("record")  # pilot_started, pilot_ended (or a reminder, never reached)
        if self._stage == PILOT_PLANNED and self._plan is not None:
            self._change(PILOT, wake=self._plan.end)
        elif self._stage == PILOT:
            self._change(EVALUATING, wake=workflow.now() + PERSON_WAIT)
        else:
            self._change(self._stage, wake=workflow.now() + PERSON_WAIT, deliver=False)

    async def _run_rollout(self) -> None:
        info = workflow.info()
        handle = await workflow.start_child_workflow(
            FloorBatch.run, BatchStart(parent_id=info.workflow_id, members=self._members),
            id=f"{info.workflow_id}-rollout-000")
        await handle
        async with self._lock:
            await call("record")  # proposal_completed
            self._change(COMPLETED, wake=None)

    async def _record(self, *allowed: str) -> None:
        """As kyoso decides under its lock: refuse what a change meanwhile made wrong (a
        report racing the pilot's end), else record."""
        await workflow.wait_condition(lambda: self._stage != SUBMITTED)
        if self._stage not in allowed:
            raise ApplicationError(f"not now: the stage is {self._stage}", type="wrong_stage",
                                   non_retryable=True)
        await call("record")

    @workflow.query
    def stage(self) -> str:
        return self._stage

    @workflow.update
    async def vote(self, voter: int) -> int:
        async with self._lock:
            await self._record(IN_REVIEW)
            self._votes += 1
            if self._votes >= QUORUM:
                self._change(ADOPTED, wake=workflow.now() + PERSON_WAIT)
            else:
                self._change(IN_REVIEW, wake=self._wake, deliver=False)
        return self._votes

    @vote.validator
    def _validate_vote(self, voter: int) -> None:
        if self._stage not in (SUBMITTED, IN_REVIEW):
            raise ValueError("the review is over")

    @workflow.update
    async def plan_pilot(self, plan: Plan) -> str:
        async with self._lock:
            await self._record(ADOPTED)
            self._plan = plan
            self._change(PILOT_PLANNED, wake=plan.start)
        return self._stage

    @plan_pilot.validator
    def _validate_plan_pilot(self, plan: Plan) -> None:
        if self._stage != ADOPTED:
            raise ValueError("not adopted")

    @workflow.update
    async def file_report(self, number: int) -> str:
        async with self._lock:
            await self._record(PILOT)
            self._change(PILOT, wake=self._wake)
        return self._stage

    @file_report.validator
    def _validate_file_report(self, number: int) -> None:
        if self._stage != PILOT:
            raise ValueError("the pilot is not running")

    @workflow.update
    async def evaluate_pilot(self, outcome: str) -> str:
        async with self._lock:
            await self._record(EVALUATING)
            self._change(EVALUATED, wake=None)
        return self._stage

    @evaluate_pilot.validator
    def _validate_evaluate_pilot(self, outcome: str) -> None:
        if self._stage != EVALUATING:
            raise ValueError("the pilot has not ended")


FLOOR_SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("bench"))


def floor_worker(client: Client, task_queue: str, **options: Any) -> Worker:
    """The floor's worker: configured as kyoso's (`worker.build_worker`), bare workflows."""
    return Worker(client, task_queue=task_queue,
                  workflows=[FloorLifecycle, FloorBatch, FloorMember], activities=[noop],
                  workflow_runner=FLOOR_SANDBOX, graceful_shutdown_timeout=timedelta(seconds=30),
                  **options)
