"""What a proposer submits, and what a revision may change."""

from __future__ import annotations

import hashlib
import unicodedata
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.values import (
    Comment,
    Email,
    LongText,
    Name,
    Paragraph,
    Phone,
    PreferredTown,
    ShortText,
    Title,
    normalise_name,
)


class Theme(StrEnum):
    MOBILITY = "mobility"
    HEALTH = "health"
    EDUCATION = "education"
    TOURISM = "tourism"
    AGRICULTURE = "agriculture"
    ENVIRONMENT = "environment"
    DX = "dx"
    DISASTER_PREVENTION = "disaster_prevention"
    CHILDCARE = "childcare"
    COMMUNITY = "community"
    OTHER = "other"


class Model(BaseModel):
    """Strict, immutable base for every domain model: unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class Contact(Model):
    name: Name
    email: Email
    phone: Phone | None = None


class Proposer(Model):
    organisation: ShortText
    kind: Literal["company", "group", "individual"]
    contact: Contact


class Proposal(Model):
    """A co-creation proposal as submitted (提案)."""

    proposer: Proposer
    title: Title
    summary: LongText
    theme: Theme
    requested_support: Paragraph
    preferred_town: PreferredTown
    # Organisations the proposer is tied to (parent company, partners): reviewers affiliated
    # with any of them, or with the proposer itself, may not vote.
    related_parties: tuple[ShortText, ...] = Field(default=(), max_length=20)

    def parties(self) -> frozenset[str]:
        names = (self.proposer.organisation, *self.related_parties)
        return frozenset(n for n in (normalise_name(x) for x in names) if n)

    def fingerprint(self) -> str:
        """Identity of the content, to refuse an exact resubmission of an open proposal."""
        parts = (
            normalise_name(self.proposer.organisation),
            unicodedata.normalize("NFKC", self.title).casefold().strip(),
            " ".join(unicodedata.normalize("NFKC", self.summary).casefold().split()),
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def revised(self, revision: ProposalRevision) -> Proposal:
        changes = revision.model_dump(exclude={"note"}, exclude_none=True)
        return self.model_copy(update=changes)


class ProposalRevision(Model):
    """A proposer's answer to a request for changes: the fields that change, and a note."""

    title: Title | None = None
    summary: LongText | None = None
    requested_support: Paragraph | None = None
    note: Comment

    @model_validator(mode="after")
    def _changes_something(self) -> ProposalRevision:
        if self.title is None and self.summary is None and self.requested_support is None:
            raise ValueError("a revision must change the title, the summary or the requested support")
        return self
