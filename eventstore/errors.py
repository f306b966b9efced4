"""Errors the event store raises to its callers."""

from __future__ import annotations


class StoreError(Exception):
    pass


class ConcurrencyError(StoreError):
    """The stream moved on: the expected version is stale. Nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {actual}, not {expected} as expected"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class IdempotencyConflict(StoreError):
    """Events with these ids were already recorded with other content or elsewhere."""
