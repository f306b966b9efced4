"""Recording events: the only way anything becomes a fact."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import RecordRequest, RecordResult
from eventstore.errors import ConcurrencyError, IdempotencyConflict
from eventstore.store import EventStore


def bound_logger(proposal_id: str) -> structlog.stdlib.BoundLogger:
    info = activity.info()
    return structlog.get_logger("kyoso.activity").bind(  # type: ignore[no-any-return]
        proposal_id=proposal_id, workflow_id=info.workflow_id, run_id=info.workflow_run_id,
        activity=info.activity_type, attempt=info.attempt)


class RecordActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="record_events")
    async def record_events(self, req: RecordRequest) -> RecordResult:
        """Append with the expected version; a retry of a committed append is a no-op that
        returns the original result (adoption number included)."""
        log = bound_logger(req.events[0].proposal_id)
        try:
            result = await self.store.append(req.stream_id, req.expected_version, req.events,
                                             notifications=req.notifications)
        except (ConcurrencyError, IdempotencyConflict) as err:
            log.error("append refused", error=str(err), stream=req.stream_id)
            raise ApplicationError(str(err), type=type(err).__name__, non_retryable=True) from err
        log.info("events recorded", stream=req.stream_id, version=result.version,
                 types=[e.type for e in req.events], replayed=result.replayed,
                 notifications=len(req.notifications))
        return RecordResult(version=result.version, positions=list(result.positions),
                            adoption_number=result.adoption_number, replayed=result.replayed)
