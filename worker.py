"""The kyoso worker: runs the proposal workflows and their activities.

    python worker.py            # connects with TEMPORAL_* settings, DATABASE_URL or embedded

It applies the database migrations first, logs JSON lines with proposal, workflow and run
ids, and shuts down gracefully on SIGINT or SIGTERM, finishing the activities under way.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.intake import IntakeActivities
from activities.mailer import SmtpConfig, SmtpMailer
from activities.network import NetworkActivities
from activities.notify import NotifyActivities
from activities.records import RecordActivities
from eventstore.migrate import migrate
from eventstore.projections import ProposalsProjection
from eventstore.store import EventStore
from infra import database
from infra import logging as kyoso_logging
from infra.settings import Settings
from infra.temporal_client import TemporalUnavailable, connect
from workflows.membership import MembershipWorkflow
from workflows.proposal import ProposalWorkflow
from workflows.rollout import RolloutBatchWorkflow

WORKFLOWS: Sequence[type] = (ProposalWorkflow, RolloutBatchWorkflow, MembershipWorkflow)

# Our own pure modules and the libraries they use are deterministic and safe to share with
# the sandbox; re-importing them for every workflow would only cost time and memory.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "domain", "workflows", "activities", "eventstore", "infra", "email_validator", "dns",
        "idna", "asyncpg", "structlog", "aiosmtplib",
    )
)

log = structlog.get_logger("kyoso.worker")


def activities_for(pool: asyncpg.Pool, mailer: SmtpMailer | None) -> list[Callable[..., Any]]:
    store = EventStore(pool, [ProposalsProjection()])
    return [
        RecordActivities(store).record_events,
        IntakeActivities(pool).check_intake,
        NetworkActivities(pool).rollout_targets,
        NotifyActivities(pool, mailer).deliver_notifications,
    ]


def mailer_for(settings: Settings) -> SmtpMailer | None:
    if not settings.smtp_url:
        return None
    return SmtpMailer(SmtpConfig.from_url(settings.smtp_url), settings.mail_from)


def build_worker(client: Client, pool: asyncpg.Pool, task_queue: str,
                 mailer: SmtpMailer | None = None,
                 activities: Sequence[Callable[..., Any]] | None = None,
                 **options: object) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=list(activities if activities is not None else activities_for(pool, mailer)),
        workflow_runner=SANDBOX,
        graceful_shutdown_timeout=timedelta(seconds=30),
        **options,  # type: ignore[arg-type]
    )


async def prepare_database(settings: Settings) -> asyncpg.Pool:
    url = database.resolve_url(settings.database_url, settings.data_dir)
    pool = await database.create_pool(url, max_size=settings.db_pool_size)
    async with pool.acquire() as conn:
        applied = await migrate(conn)
    if applied:
        log.info("migrations applied", migrations=applied)
    return pool


async def main_async(settings: Settings) -> None:
    pool = await prepare_database(settings)
    client = await connect()
    worker = build_worker(client, pool, settings.task_queue, mailer_for(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue,
             namespace=client.namespace, smtp=bool(settings.smtp_url))
    async with worker:
        await stop.wait()
        log.info("shutting down: finishing activities under way")
    await pool.close()
    log.info("worker stopped")


def main() -> None:
    try:
        settings = Settings.from_env()
    except ValueError as err:
        print(f"kyoso-worker: {err}", file=sys.stderr)
        sys.exit(2)
    kyoso_logging.configure(settings.log_format, settings.log_level)
    try:
        asyncio.run(main_async(settings))
    except (database.DatabaseUnavailable, TemporalUnavailable) as err:
        print(f"kyoso-worker: {err}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
