"""Where a proposal is in its lifecycle, and where a member is in a rollout."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    SUBMITTED = "submitted"
    AWAITING_ASSIGNMENT = "awaiting_assignment"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    ADOPTED = "adopted"
    PILOT_PLANNED = "pilot_planned"
    PILOT = "pilot"
    EVALUATING = "evaluating"
    EVALUATED = "evaluated"
    ROLLOUT = "rollout"
    COMPLETED = "completed"
    REJECTED_AT_INTAKE = "rejected_at_intake"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    STOPPED = "stopped"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STAGES


TERMINAL_STAGES = frozenset(
    {
        Stage.COMPLETED,
        Stage.REJECTED_AT_INTAKE,
        Stage.REJECTED,
        Stage.WITHDRAWN,
        Stage.STOPPED,
        Stage.EXPIRED,
    }
)


class MemberStatus(StrEnum):
    OFFERED = "offered"
    JOINED = "joined"
    DECLINED = "declined"
    LAPSED = "lapsed"  # no answer within the rollout window
    DEPLOYED = "deployed"
    DEPLOYMENT_EXPIRED = "deployment_expired"
    WITHDRAWN = "withdrawn"  # the proposal was withdrawn before this member's part ended

    @property
    def is_terminal(self) -> bool:
        return self not in {MemberStatus.OFFERED, MemberStatus.JOINED}
