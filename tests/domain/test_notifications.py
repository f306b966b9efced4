"""Who is told what: recipients per event, idempotency keys, and templates that render."""

from __future__ import annotations

from string import Formatter

import pytest

from domain.network import Municipality
from domain.notifications import TEMPLATES, Notification, for_member, for_proposal, render
from domain.proposal import Theme
from domain.rollout import MembershipState
from domain.stages import Stage
from domain.state import ProposalState
from domain.values import PreferredTown, Role, Town
from tests.factories import (
    YOKOZE_R1,
    YOKOZE_R2,
    YOKOZE_R3,
    MemberStory,
    Story,
    day,
    full_lifecycle,
    policies,
    proposal,
    reviewer,
    story_at,
    town_policy,
)

STORIES, MEMBERS = full_lifecycle()
HOST_EMAIL = "office@yokoze.example.jp"
SAPPORO_NO_MAIL = Municipality(lgcode="011002", name="札幌市", prefecture="北海道")


def proposal_notes(s: Story) -> list[Notification]:
    return for_proposal(ProposalState(), s.events)


def member_notes(m: MemberStory) -> list[Notification]:
    return for_member(MembershipState(), m.events, secretariat_email=HOST_EMAIL)


ALL_NOTES = [n for s in STORIES for n in proposal_notes(s)] + [
    n for m in MEMBERS for n in member_notes(m)]


def recipients(notes: list[Notification], template: str) -> list[tuple[Role, str]]:
    return [(n.recipient_role, n.recipient_id) for n in notes if n.template == template]


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field}


# -- recipients -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("preferred", "theme", "office"),
    [
        (PreferredTown.YOKOZE, Theme.DX, "yokoze-secretariat"),  # the routing rule does not apply
        (PreferredTown.BANDAI, Theme.MOBILITY, "bandai-secretariat"),
        (PreferredTown.EITHER, Theme.DX, "bandai-secretariat"),  # routed by theme
        (PreferredTown.EITHER, Theme.MOBILITY, "yokoze-secretariat"),  # the default town
    ],
)
def test_a_submission_is_announced_to_the_office_that_will_handle_it(
    preferred: PreferredTown, theme: Theme, office: str
) -> None:
    s = Story(prop=proposal(preferred_town=preferred, theme=theme))
    [note] = for_proposal(ProposalState(), s.submit())
    assert (note.template, note.recipient_role, note.recipient_id) == (
        "submitted", Role.SECRETARIAT, office)
    assert note.address == f"office@{office.split('-')[0]}.example.jp"


def test_the_proposer_is_acknowledged_on_intake() -> None:
    s = story_at(Stage.SUBMITTED)
    before = s.state
    events = s.intake(Town.YOKOZE)
    notes = for_proposal(before, events)
    [ack] = [n for n in notes if n.template == "intake_accepted"]
    assert (ack.recipient_role, ack.recipient_id) == (Role.PROPOSER, "proposer")
    assert (ack.address, ack.channel) == (s.proposal.proposer.contact.email, "email")
    assert ack.payload["title"] == s.proposal.title
    assert ack.event_id == events[0].event_id


def test_both_secretariats_hear_of_a_proposal_awaiting_assignment() -> None:
    s = Story(prop=proposal(preferred_town=PreferredTown.EITHER))
    s.submit()
    before = s.state
    events = s.intake(Town.YOKOZE, Town.BANDAI)
    assert recipients(for_proposal(before, events), "intake_accepted") == [
        (Role.PROPOSER, "proposer"), (Role.SECRETARIAT, "yokoze-secretariat"),
        (Role.SECRETARIAT, "bandai-secretariat")]


def test_a_rejected_intake_tells_the_proposer_why() -> None:
    s = story_at(Stage.SUBMITTED)
    before = s.state
    events = s.intake()
    [note] = for_proposal(before, events)
    assert note.template == "intake_rejected"
    assert note.recipient_role is Role.PROPOSER
    assert note.payload["reason"] == "intake of Yokolab is paused"


def test_review_assignment_reaches_each_eligible_reviewer_but_not_the_conflicted_one() -> None:
    committee = (reviewer(Town.YOKOZE, 1), reviewer(Town.YOKOZE, 2),
                 reviewer(Town.YOKOZE, 3, affiliations=("株式会社Foo",)))
    pol = policies(yokoze=town_policy(Town.YOKOZE).model_copy(update={"committee": committee}))
    s = Story(pol=pol, prop=proposal(organisation="Foo"))
    s.submit()
    before = s.state
    events = s.intake(Town.YOKOZE)
    notes = for_proposal(before, events)
    assert recipients(notes, "review_started") == [
        (Role.PROPOSER, "proposer"), (Role.REVIEWER, YOKOZE_R1), (Role.REVIEWER, YOKOZE_R2)]
    [r1] = [n for n in notes if n.recipient_id == YOKOZE_R1]
    assert r1.address == "r1@yokoze.example.jp"
    assert r1.payload["programme"] == "Yokolab"
    assert r1.payload["round"] == 1


def test_review_reminders_go_only_to_reviewers_who_have_not_voted() -> None:
    s = story_at(Stage.IN_REVIEW)
    s.vote(YOKOZE_R2)
    deadline = s.state.deadlines[0]
    assert deadline.remind_at is not None
    at = deadline.remind_at
    before = s.state
    events = s.tick(at)
    notes = for_proposal(before, events)
    assert recipients(notes, "reminder") == [(Role.REVIEWER, YOKOZE_R1), (Role.REVIEWER, YOKOZE_R3)]
    assert notes[0].payload["kind"] == "review"


def test_a_revision_reminder_goes_to_the_proposer() -> None:
    s = story_at(Stage.CHANGES_REQUESTED)
    deadline = s.state.deadlines[0]
    assert deadline.remind_at is not None
    at = deadline.remind_at
    before = s.state
    events = s.tick(at)
    assert recipients(for_proposal(before, events), "reminder") == [(Role.PROPOSER, "proposer")]


def test_a_review_escalation_goes_to_the_secretariat_and_the_chair() -> None:
    s = story_at(Stage.IN_REVIEW)
    due = s.state.deadlines[0].due_at
    before = s.state
    events = s.tick(due)
    assert recipients(for_proposal(before, events), "escalated") == [
        (Role.SECRETARIAT, "yokoze-secretariat"), (Role.REVIEWER, YOKOZE_R1)]


def test_a_withdrawal_during_review_tells_the_reviewers() -> None:
    s = story_at(Stage.WITHDRAWN)
    notes = proposal_notes(s)
    assert recipients(notes, "withdrawn") == [
        (Role.SECRETARIAT, "yokoze-secretariat"), (Role.REVIEWER, YOKOZE_R1),
        (Role.REVIEWER, YOKOZE_R2), (Role.REVIEWER, YOKOZE_R3)]


def test_adoption_leaves_the_number_to_the_store() -> None:
    s = story_at(Stage.ADOPTED)
    [note] = [n for n in proposal_notes(s) if n.template == "adopted"
              and n.recipient_role is Role.PROPOSER]
    assert note.payload["adoption_number"] is None
    subject, body = render(note.template, {**note.payload, "adoption_number": 140})
    assert subject == f"[{s.proposal_id}] 採択 No.140 / Adopted"
    assert "was adopted by Yokolab as 採択No.140." in body


def test_members_hear_of_their_offer_and_the_host_of_their_answer() -> None:
    m = MemberStory()
    m.offer()
    m.join()
    notes = member_notes(m)
    assert [(n.template, n.recipient_role, n.address) for n in notes] == [
        ("member_offered", Role.MEMBER, "kikaku@sapporo.example.jp"),
        ("member_joined", Role.SECRETARIAT, HOST_EMAIL),
    ]
    assert notes[0].payload["member"] == "北海道札幌市"
    before = m.state
    events = m.tick(day(m.now, 180))
    assert recipients(for_member(before, events, HOST_EMAIL), "reminder") == [
        (Role.MEMBER, "011002")]
    assert recipients(for_member(before, events, HOST_EMAIL), "escalated") == [
        (Role.SECRETARIAT, "yokoze-secretariat")]


def test_a_member_without_an_address_is_kept_on_record() -> None:
    m = MemberStory(SAPPORO_NO_MAIL)
    m.offer()
    [note] = member_notes(m)
    assert (note.address, note.channel) == (None, "record")


# -- keys and templates ---------------------------------------------------------------------------

def test_keys_are_unique_per_event_and_recipient() -> None:
    keys = [n.key for n in ALL_NOTES]
    assert len(keys) == len(set(keys))
    for n in ALL_NOTES:
        assert n.key == f"{n.event_id}/{n.recipient_role.value}/{n.recipient_id}"


def test_notifications_are_computed_deterministically() -> None:
    assert proposal_notes(STORIES[0]) == proposal_notes(STORIES[0])


def test_every_notification_has_a_template_and_every_template_is_used() -> None:
    used = {n.template for n in ALL_NOTES}
    assert used <= TEMPLATES.keys()
    assert used == TEMPLATES.keys()


@pytest.mark.parametrize("note", ALL_NOTES, ids=lambda n: f"{n.template}-{n.recipient_id}")
def test_every_template_is_filled_by_its_payload(note: Notification) -> None:
    subject, body = TEMPLATES[note.template]
    for field in placeholders(subject) | placeholders(body):
        assert field in note.payload, f"{note.template} needs {field}"
        if field != "adoption_number":  # merged in by the store when it allocates the number
            assert note.payload[field] is not None, f"{note.template} lacks {field}"
    rendered_subject, rendered_body = render(note.template, note.payload)
    assert f"[{note.payload['proposal_id']}]" in rendered_subject
    assert "{" not in rendered_subject + rendered_body
    assert rendered_body.endswith(f"({note.payload['at']})")
    assert str(note.payload["at"]).endswith(" JST")
