"""Events: ids derived from the command, lossless serialisation, and a strict fold."""

from __future__ import annotations

from uuid import uuid4, uuid5

import pytest

from domain.commands import CastVote, Context, Tick
from domain.decider import decide
from domain.events import (
    EVENT_ADAPTER,
    EVENT_LIST_ADAPTER,
    EVENT_TYPES,
    Event,
    MemberOffered,
    VoteDecision,
    parse_event,
)
from domain.rollout import MembershipState, evolve_member
from domain.stages import Stage
from domain.state import ProposalState, evolve, fold
from tests.factories import (
    SYSTEM,
    YOKOZE_R1,
    YOKOZE_R2,
    MemberStory,
    Story,
    day,
    full_lifecycle,
    reviewer_actor,
    story_at,
)

STORIES, MEMBERS = full_lifecycle()
ALL_EVENTS: list[Event] = [e for s in STORIES for e in s.events] + [
    e for m in MEMBERS for e in m.events]


# -- ids ------------------------------------------------------------------------------------------

def test_the_same_command_and_context_decide_the_same_events() -> None:
    s = story_at(Stage.IN_REVIEW)
    s.vote(YOKOZE_R1)
    command = CastVote(actor=reviewer_actor(YOKOZE_R2), decision=VoteDecision.APPROVE,
                       comment="Yes.")
    ctx = Context(command_id=uuid4(), at=day(s.now, 1))
    first = decide(s.state, command, ctx)
    second = decide(s.state, command, ctx)
    assert [e.type for e in first] == ["vote_cast", "proposal_adopted"]
    assert first == second
    assert [e.event_id for e in first] == [uuid5(ctx.command_id, "0"), uuid5(ctx.command_id, "1")]
    other = decide(s.state, command, Context(command_id=uuid4(), at=ctx.at))
    assert {e.event_id for e in other}.isdisjoint(e.event_id for e in first)


def test_a_tick_is_deterministic_too() -> None:
    s = story_at(Stage.IN_REVIEW)
    ctx = Context(command_id=uuid4(), at=day(s.now, 100))
    tick = Tick(actor=SYSTEM)
    first = decide(s.state, tick, ctx)
    assert len(first) == 3
    assert decide(s.state, tick, ctx) == first


def test_event_ids_are_unique_across_a_lifecycle() -> None:
    ids = [e.event_id for e in ALL_EVENTS]
    assert len(ids) == len(set(ids))


def test_events_carry_their_stream_position_time_and_actor() -> None:
    s = STORIES[0]
    assert [e.sequence for e in s.events] == list(range(1, len(s.events) + 1))
    assert {e.proposal_id for e in s.events} == {s.proposal_id}
    assert all(e.member is None and e.stream_id == s.proposal_id for e in s.events)
    times = [e.occurred_at for e in s.events]
    assert times == sorted(times)
    for m in MEMBERS:
        expected = f"{m.proposal_id}/member/{m.municipality.lgcode}"
        assert {e.stream_id for e in m.events} == {expected}


# -- serialisation --------------------------------------------------------------------------------

def test_the_lifecycle_produces_every_event_type() -> None:
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES)) == 29
    assert {e.type for e in ALL_EVENTS} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: f"{e.type}-{e.sequence}")
def test_every_event_round_trips(event: Event) -> None:
    as_json = EVENT_ADAPTER.dump_json(event)
    assert EVENT_ADAPTER.validate_json(as_json) == event
    assert parse_event(as_json.decode()) == event
    as_data = EVENT_ADAPTER.dump_python(event, mode="json")
    assert as_data["type"] == event.type
    assert parse_event(as_data) == event
    assert type(parse_event(as_data)) is type(event)


def test_a_whole_stream_round_trips() -> None:
    events = STORIES[0].events
    assert EVENT_LIST_ADAPTER.validate_json(EVENT_LIST_ADAPTER.dump_json(events)) == events


def test_an_unknown_event_type_is_refused() -> None:
    data = EVENT_ADAPTER.dump_python(STORIES[0].events[0], mode="json")
    with pytest.raises(ValueError, match="does not match any of the expected tags"):
        parse_event({**data, "type": "proposal_teleported"})


# -- the fold -------------------------------------------------------------------------------------

@pytest.mark.parametrize("story", STORIES, ids=lambda s: str(s.state.stage))
def test_folding_from_scratch_gives_the_state_built_step_by_step(story: Story) -> None:
    assert fold(story.events) == story.state
    assert fold(story.events).version == len(story.events)


def test_folding_parsed_events_gives_the_same_state() -> None:
    s = STORIES[0]
    parsed = [parse_event(EVENT_ADAPTER.dump_json(e)) for e in s.events]
    assert fold(parsed) == s.state


def test_evolve_refuses_a_gap_in_the_sequence() -> None:
    events = STORIES[0].events
    state = fold(events[:2])
    with pytest.raises(ValueError, match=f"event 4 of {events[0].proposal_id} does not follow "
                                         "version 2"):
        evolve(state, events[3])


def test_evolve_refuses_an_event_twice() -> None:
    events = STORIES[0].events
    state = fold(events[:3])
    with pytest.raises(ValueError, match=r"event 3 of P-\w+ does not follow version 3"):
        evolve(state, events[2])


def test_evolve_refuses_a_member_event_on_a_proposal_stream() -> None:
    s = STORIES[0]
    member_event = MEMBERS[0].events[0].model_copy(update={"sequence": s.state.version + 1})
    with pytest.raises(ValueError, match="member_offered belongs to a member's stream"):
        evolve(s.state, member_event)
    unmarked = member_event.model_copy(update={"member": None})
    with pytest.raises(ValueError, match="member_offered does not apply to a proposal's stream"):
        evolve(s.state, unmarked)


def test_evolve_member_refuses_a_proposal_event() -> None:
    m: MemberStory = MEMBERS[0]
    proposal_event = STORIES[0].events[1].model_copy(update={"sequence": m.state.version + 1})
    with pytest.raises(ValueError, match="intake_accepted belongs to a proposal's stream"):
        evolve_member(m.state, proposal_event)
    first = m.events[0]
    assert isinstance(first, MemberOffered)
    with pytest.raises(ValueError, match="member event 1 does not follow 3"):
        evolve_member(m.state, first)
    assert evolve_member(MembershipState(), first).status is not None


def test_evolve_does_not_change_the_state_it_is_given() -> None:
    s = STORIES[0]
    before = ProposalState()
    after = evolve(before, s.events[0])
    assert before == ProposalState()
    assert after.version == 1
