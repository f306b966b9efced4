"""People who act on a proposal: actors in events, reviewers on committees."""

from __future__ import annotations

from pydantic import Field

from domain.proposal import Model
from domain.values import Email, Name, Role, ShortText, Slug, Town, normalise_name


class Actor(Model):
    """Who caused an event. `id` is a reviewer id, an lgcode, or a free secretariat handle."""

    role: Role
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@:-]+$")

    @classmethod
    def system(cls) -> Actor:
        return cls(role=Role.SYSTEM, id="kyoso")


class Reviewer(Model):
    """A member of one town's review committee (審査委員)."""

    reviewer_id: Slug
    name: Name
    email: Email
    town: Town
    affiliations: tuple[ShortText, ...] = Field(default=(), max_length=20)
    chair: bool = False

    def conflicted_with(self, parties: frozenset[str]) -> bool:
        return any(normalise_name(a) in parties for a in self.affiliations)
