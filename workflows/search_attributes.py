"""Typed search attributes: what operators filter on in the Web UI. No personal data here."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

STAGE = SearchAttributeKey.for_keyword("KyosoStage")
TOWN = SearchAttributeKey.for_keyword("KyosoTown")
THEME = SearchAttributeKey.for_keyword("KyosoTheme")
PROPOSAL_ID = SearchAttributeKey.for_keyword("KyosoProposalId")
WAITING_FOR = SearchAttributeKey.for_keyword("KyosoWaitingFor")
DEADLINE = SearchAttributeKey.for_datetime("KyosoDeadline")
ADOPTION_NUMBER = SearchAttributeKey.for_int("KyosoAdoptionNumber")
MEMBER = SearchAttributeKey.for_keyword("KyosoMember")

ALL = (STAGE, TOWN, THEME, PROPOSAL_ID, WAITING_FOR, DEADLINE, ADOPTION_NUMBER, MEMBER)


def typed(**values: str) -> TypedSearchAttributes:
    """Search attributes a workflow starts with; keys: proposal_id, town, theme, stage, member."""
    keys = {"proposal_id": PROPOSAL_ID, "town": TOWN, "theme": THEME, "stage": STAGE,
            "member": MEMBER}
    return TypedSearchAttributes([SearchAttributePair(keys[k], v) for k, v in values.items()])
