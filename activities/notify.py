"""Delivering the outbox: each notification once, even when this activity is retried.

A row is locked, sent and marked in one short transaction of its own; a retry finds it sent.
Without SMTP_URL, or for recipients without an address, the notification is kept as
'recorded': the secretariat sees it with `starter.py notifications`.
"""

from __future__ import annotations

import json

import asyncpg
from temporalio import activity

from activities.contracts import DeliveryReport, DeliveryRequest
from activities.mailer import PermanentMailError, SmtpMailer
from activities.records import bound_logger
from domain.notifications import render


class NotifyActivities:
    def __init__(self, pool: asyncpg.Pool, mailer: SmtpMailer | None) -> None:
        self.pool = pool
        self.mailer = mailer

    @activity.defn(name="deliver_notifications")
    async def deliver_notifications(self, req: DeliveryRequest) -> DeliveryReport:
        ids = await self.pool.fetch(
            """SELECT id, proposal_id FROM outbox WHERE event_id = ANY($1::uuid[])
               AND status = 'pending' ORDER BY id""", req.event_ids)
        report = DeliveryReport()
        for row in ids:
            outcome = await self._deliver_one(row["id"])
            bound_logger(row["proposal_id"]).info("notification", outbox_id=row["id"],
                                                  outcome=outcome)
            if outcome == "sent":
                report.sent += 1
            elif outcome == "recorded":
                report.recorded += 1
            else:
                report.already_done += 1
        return report

    async def _deliver_one(self, outbox_id: int) -> str:
        error: Exception | None = None
        async with self.pool.acquire() as c:
            async with c.transaction():
                row = await c.fetchrow(
                    """SELECT * FROM outbox WHERE id = $1 AND status = 'pending'
                       FOR UPDATE SKIP LOCKED""", outbox_id)
                if row is None:
                    return "already_done"
                if row["channel"] != "email" or self.mailer is None:
                    await c.execute("""UPDATE outbox SET status = 'recorded', sent_at = now(),
                                       attempts = attempts + 1 WHERE id = $1""", outbox_id)
                    return "recorded"
                subject, body = render(row["template"], json.loads(row["payload"]))
                try:
                    await self.mailer.send(row["recipient_address"], subject, body,
                                           row["idempotency_key"])
                except PermanentMailError as err:
                    await c.execute("""UPDATE outbox SET status = 'failed', attempts = attempts + 1,
                                       last_error = $2 WHERE id = $1""", outbox_id, str(err))
                    return "failed"
                except Exception as err:  # transient: recorded, then retried
                    error = err
                else:
                    await c.execute("""UPDATE outbox SET status = 'sent', sent_at = now(),
                                       attempts = attempts + 1 WHERE id = $1""", outbox_id)
                    return "sent"
            await c.execute("UPDATE outbox SET attempts = attempts + 1, last_error = $2 "
                            "WHERE id = $1", outbox_id, f"{type(error).__name__}: {error}")
        raise error
