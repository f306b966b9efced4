"""Typed domain errors: every refusal carries a stable code and a sentence for a person."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "invalid"
    WRONG_STAGE = "wrong_stage"
    NOT_ALLOWED = "not_allowed"
    NOT_ON_COMMITTEE = "not_on_committee"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    ALREADY_VOTED = "already_voted"
    ALREADY_SUBMITTED = "already_submitted"
    NOT_SUBMITTED = "not_submitted"
    BAD_DEADLINE = "bad_deadline"
    BAD_REFERRAL = "bad_referral"


class DomainError(Exception):
    """A command that the rules of the programme refuse. Nothing is recorded."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message
