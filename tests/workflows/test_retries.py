"""Activities that fail after doing their work, and are retried: nothing is recorded twice,
nobody is told twice. The first attempt of every activity does the real work (appends the
events, sends the e-mails through a real SMTP server) and then raises."""

from __future__ import annotations

import hashlib
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from temporalio import activity
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
from activities.mailer import SmtpConfig, SmtpMailer
from activities.network import NetworkActivities
from activities.notify import NotifyActivities
from activities.records import RecordActivities
from domain.events import ProposalAdopted
from domain.pilot import PilotOutcome
from domain.stages import MemberStatus, Stage
from eventstore.store import EventStore
from tests.workflows.helpers import harness_with, municipalities


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class Failures:
    """Fails the first attempt of every activity, after its work is done."""

    def __init__(self) -> None:
        self.injected: Counter[str] = Counter()

    def after_the_work(self) -> None:
        info = activity.info()
        if info.attempt == 1:
            self.injected[info.activity_type] += 1
            raise RuntimeError(f"{info.activity_type} failed after doing its work")


class FlakyRecord(RecordActivities):
    def __init__(self, store: EventStore, failures: Failures) -> None:
        super().__init__(store)
        self.failures = failures

    @activity.defn(name="record_events")
    async def record_events(self, req: RecordRequest) -> RecordResult:
        result = await super().record_events(req)
        self.failures.after_the_work()
        return result


class FlakyIntake(IntakeActivities):
    def __init__(self, pool: asyncpg.Pool, failures: Failures) -> None:
        super().__init__(pool)
        self.failures = failures

    @activity.defn(name="check_intake")
    async def check_intake(self, req: IntakeRequest) -> IntakeFindings:
        result = await super().check_intake(req)
        self.failures.after_the_work()
        return result


class FlakyNetwork(NetworkActivities):
    def __init__(self, pool: asyncpg.Pool, failures: Failures) -> None:
        super().__init__(pool)
        self.failures = failures

    @activity.defn(name="rollout_targets")
    async def rollout_targets(self, req: RolloutTargetsRequest) -> RolloutTargets:
        result = await super().rollout_targets(req)
        self.failures.after_the_work()
        return result


class FlakyNotify(NotifyActivities):
    def __init__(self, pool: asyncpg.Pool, mailer: SmtpMailer, failures: Failures) -> None:
        super().__init__(pool, mailer)
        self.failures = failures

    @activity.defn(name="deliver_notifications")
    async def deliver_notifications(self, req: DeliveryRequest) -> DeliveryReport:
        result = await super().deliver_notifications(req)
        self.failures.after_the_work()
        return result


async def test_every_activity_failing_once_after_its_work(
        ts_env: WorkflowEnvironment, pool: asyncpg.Pool, store: EventStore,
        smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    failures = Failures()
    mailer = SmtpMailer(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"), "kyoso@test")
    flaky: list[Callable[..., Any]] = [
             FlakyRecord(store, failures).record_events,
             FlakyIntake(pool, failures).check_intake,
             FlakyNetwork(pool, failures).rollout_targets,
             FlakyNotify(pool, mailer, failures).deliver_notifications]
    async with harness_with(ts_env, pool, store, flaky) as h:
        await h.add_members(*municipalities("011002", "012025", "012033", email=True))
        run = await h.submit()
        adopted = await run.adopt()
        assert adopted.adoption_number == 1  # the retried append returned the same number
        await run.start_pilot()
        await run.file_report()
        await run.end_pilot()
        await run.evaluate(PilotOutcome.SUCCESS)
        await run.at(Stage.ROLLOUT)
        joins, declines, _silent = await run.offered("011002", "012025", "012033")
        await joins.join()
        await declines.decline()
        await joins.deployed()
        await h.skip(61)  # the silent member's window lapses
        final = await run.finish()
        assert final.stage is Stage.COMPLETED
        assert (await joins.finish()).status is MemberStatus.DEPLOYED
        consistency = await run.check()

    # Every activity failed once, and was retried.
    assert set(failures.injected) == {"record_events", "check_intake", "rollout_targets",
                                      "deliver_notifications"}
    assert failures.injected["record_events"] == await pool.fetchval(
        "SELECT count(DISTINCT (stream_id, recorded_at)) FROM events")

    # Nothing recorded twice: one adoption, one number, the expected events once each.
    assert await pool.fetchval("SELECT count(*) FROM adoption_numbers") == 1
    assert await pool.fetchval("SELECT value FROM counters WHERE name = 'adoption:yokoze'") == 1
    adoptions = [e for e in await run.events() if isinstance(e, ProposalAdopted)]
    assert [e.adoption_number for e in adoptions] == [1]
    assert await run.types() == [
        "proposal_submitted", "intake_accepted", "review_started", "vote_cast", "vote_cast",
        "proposal_adopted", "pilot_planned", "pilot_started", "pilot_report_filed",
        "reminder_sent", "escalated", "pilot_ended", "pilot_evaluated", "rollout_offered",
        "proposal_completed"]

    # Nobody told twice: every e-mail notification reached its address exactly once, though
    # the delivery that sent it failed afterwards and was retried.
    emails = await pool.fetch(
        "SELECT idempotency_key, recipient_address, status, attempts FROM outbox "
        "WHERE channel = 'email'")
    assert emails and all(r["status"] == "sent" and r["attempts"] == 1 for r in emails)
    received = Counter(str(msg["Message-ID"]) for _, msg in inbox.messages)
    assert all(n == 1 for n in received.values()), "a message was sent twice"
    expected = {f"<{hashlib.sha256(r['idempotency_key'].encode()).hexdigest()[:32]}@kyoso>":
                r["recipient_address"] for r in emails}
    assert set(received) == set(expected)
    for rcpts, msg in inbox.messages:
        assert rcpts == [expected[str(msg["Message-ID"])]]
    member_mail = [m for rcpts, m in inbox.messages if rcpts == ["office-011002@example.jp"]]
    assert any("Rollout offer" in str(m["Subject"]) for m in member_mail)
    assert consistency.notifications == len(emails) + await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE channel = 'record' AND status = 'recorded'")
