"""Validation of the domain's models: every refusal says what is wrong."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.deadlines import DeadlinePolicy
from domain.network import Municipality, Network, parse_localgov_rows
from domain.people import Reviewer
from domain.pilot import MAX_PILOT_DAYS, Kpi, PilotEvaluation, PilotOutcome, PilotPlan
from domain.policy import TownPolicy
from domain.proposal import Contact, ProposalRevision
from domain.values import Lgcode, Town, lgcode_check_digit, normalise_name
from tests.factories import policies, proposal, reviewer, town_policy

CSV = Path(__file__).resolve().parents[2] / "infra" / "data" / "localgovjp-utf8.csv"
LGCODE: TypeAdapter[str] = TypeAdapter(Lgcode)
KPIS = (Kpi(name="riders", target="50 a week"),)


def _error(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(exc.value)


# -- lgcode ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["113611", "074071", "011002", " 113611 "])
def test_valid_lgcodes(code: str) -> None:
    assert LGCODE.validate_python(code) == code.strip()


def test_check_digit_of_yokoze() -> None:
    # 1*6 + 1*5 + 3*4 + 6*3 + 1*2 = 43; 43 % 11 = 10; 11 - 10 = 1
    assert lgcode_check_digit("11361") == 1
    assert lgcode_check_digit("07407") == 1
    assert lgcode_check_digit("01100") == 2


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("113612", "lgcode 113612 has a wrong check digit (expected 1)"),
        ("074070", "lgcode 074070 has a wrong check digit (expected 1)"),
        ("011003", "wrong check digit (expected 2)"),
        ("11361", "lgcode must be 6 digits, got '11361'"),
        ("1136110", "lgcode must be 6 digits"),
        ("", "lgcode must be 6 digits"),
        ("11361a", "lgcode must be 6 digits"),
        ("１１３６１１", "lgcode must be 6 digits"),  # full-width digits are not accepted
    ],
)
def test_invalid_lgcodes(code: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LGCODE.validate_python(code)


def test_every_municipality_of_japan_parses() -> None:
    with CSV.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    found = parse_localgov_rows(rows)
    assert len(found) == 1741
    assert len({m.lgcode for m in found}) == 1741
    assert len(rows) - len(found) == 175  # wards of designated cities are left out
    by_code = {m.lgcode: m for m in found}
    assert by_code["113611"].label == "埼玉県横瀬町"
    assert by_code["074071"].label == "福島県磐梯町"
    assert by_code["011002"].name == "札幌市"
    assert not any(" " in m.name for m in found)


def test_rollout_targets_exclude_the_host_town() -> None:
    with CSV.open(encoding="utf-8-sig", newline="") as f:
        network = Network.founding(parse_localgov_rows(csv.DictReader(f)))
    assert [m.lgcode for m in network.rollout_targets(Town.YOKOZE)] == ["074071"]
    assert [m.lgcode for m in network.rollout_targets(Town.BANDAI)] == ["113611"]
    grown = network.with_members(["011002", "132012"])
    targets = [m.lgcode for m in grown.rollout_targets(Town.BANDAI)]
    assert targets == ["011002", "113611", "132012"]
    assert "074071" not in targets
    with pytest.raises(ValueError, match="unknown municipalities: 999999"):
        network.with_members(["999999"])


def test_members_may_be_given_by_a_generator() -> None:
    known = [Municipality(lgcode=c, name=f"Town {c}", prefecture="Somewhere")
             for c in ("113611", "074071", "011002")]
    network = Network.founding(known)
    grown = network.with_members(m.lgcode for m in known if m.lgcode == "011002")
    assert grown.members == {"113611", "074071", "011002"}


def test_municipality_refuses_a_bad_lgcode() -> None:
    with pytest.raises(ValidationError, match="wrong check digit"):
        Municipality(lgcode="113610", name="横瀬町", prefecture="埼玉県")


# -- text -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("char", "code"),
    [("\u202e", "202E"), ("\u202d", "202D"), ("\u202a", "202A"), ("\u2066", "2066"),
     ("\u2069", "2069"), ("\x00", "0000"), ("\x1b", "001B"), ("\x7f", "007F"), ("\ue000", "E000")],
)
def test_control_characters_and_bidi_overrides_are_refused(char: str, code: str) -> None:
    with pytest.raises(ValidationError, match=f"text contains a control character U\\+{code}"):
        proposal(title=f"Bus {char}trial")
    with pytest.raises(ValidationError, match=f"U\\+{code}"):
        ProposalRevision(summary="x" * 30, note=f"note {char}")


def test_newlines_only_in_multiline_text() -> None:
    p = proposal(summary="A shared minibus for residents.\r\nBooked by phone.\tDaily.")
    assert p.summary == "A shared minibus for residents.\nBooked by phone.\tDaily."
    with pytest.raises(ValidationError, match="U\\+000A"):
        proposal(title="Bus\ntrial")


def test_text_is_normalised_and_stripped() -> None:
    p = proposal(title="  Cafe\u0301 trial  ")  # e + combining acute -> é (NFC)
    assert p.title == "Café trial"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "ab", "should have at least 3"),
        ("title", "   ab   ", "should have at least 3"),  # measured after stripping
        ("title", "x" * 201, "should have at most 200"),
        ("summary", "too short", "should have at least 20"),
        ("summary", "x" * 4001, "should have at most 4000"),
        ("requested_support", " \n ", "should have at least 1"),
        ("related_parties", tuple(f"Org {i}" for i in range(21)), "at most 20 items"),
    ],
)
def test_lengths(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        proposal(**{field: value})
    assert field in _error(exc)


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_email_format(email: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        Contact(name="Hanako Yamada", email=email)
    with pytest.raises(ValidationError, match="email"):
        Reviewer(reviewer_id="yokoze-r9", name="R", email=email, town=Town.YOKOZE)


def test_valid_email_and_phone() -> None:
    c = Contact(name="Hanako Yamada", email="hanako@example.com", phone="+81-494-25-0111")
    assert c.email == "hanako@example.com"
    with pytest.raises(ValidationError, match="phone"):
        Contact(name="Hanako Yamada", email="hanako@example.com", phone="call me")


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Contact(name="Hanako", email="hanako@example.com", fax="123")  # type: ignore[call-arg]


# -- pilot and evaluation -------------------------------------------------------------------------

def test_pilot_dates_in_order() -> None:
    start = date(2026, 5, 1)
    with pytest.raises(ValidationError, match="the pilot must end after it starts"):
        PilotPlan(start_date=start, end_date=start, kpis=KPIS)
    with pytest.raises(ValidationError, match="the pilot must end after it starts"):
        PilotPlan(start_date=start, end_date=start - timedelta(days=1), kpis=KPIS)


def test_pilot_max_length() -> None:
    start = date(2026, 5, 1)
    ok = PilotPlan(start_date=start, end_date=start + timedelta(days=MAX_PILOT_DAYS), kpis=KPIS)
    assert (ok.end_date - ok.start_date).days == MAX_PILOT_DAYS
    with pytest.raises(ValidationError, match=f"a pilot may last at most {MAX_PILOT_DAYS} days"):
        PilotPlan(start_date=start, end_date=start + timedelta(days=MAX_PILOT_DAYS + 1),
                  kpis=KPIS)


def test_pilot_needs_a_kpi() -> None:
    with pytest.raises(ValidationError, match="kpis"):
        PilotPlan(start_date=date(2026, 5, 1), end_date=date(2026, 6, 1), kpis=())


def test_pilot_runs_through_its_end_date_in_jst() -> None:
    plan = PilotPlan(start_date=date(2026, 5, 1), end_date=date(2026, 5, 31), kpis=KPIS)
    assert plan.starts_at.isoformat() == "2026-04-30T15:00:00+00:00"
    assert plan.ends_at.isoformat() == "2026-05-31T15:00:00+00:00"


def test_extend_requires_a_new_end_date() -> None:
    with pytest.raises(ValidationError, match="extending a pilot needs a new end date"):
        PilotEvaluation(outcome=PilotOutcome.EXTEND, comment="More data needed.")
    with pytest.raises(ValidationError, match="only given when the pilot is extended"):
        PilotEvaluation(outcome=PilotOutcome.SUCCESS, comment="Good.",
                        new_end_date=date(2026, 9, 1))


def test_revision_must_change_something() -> None:
    with pytest.raises(ValidationError, match="a revision must change the title, the summary"):
        ProposalRevision(note="Nothing to change.")
    assert ProposalRevision(requested_support="Only a room.", note="Smaller ask.").title is None


def test_revision_keeps_what_it_does_not_change() -> None:
    p = proposal()
    revised = p.revised(ProposalRevision(title="A new title", note="Renamed."))
    assert revised.title == "A new title"
    assert revised.summary == p.summary
    assert revised.proposer == p.proposer


# -- policies -------------------------------------------------------------------------------------

def _yokoze_policy(*committee: Reviewer) -> TownPolicy:
    return TownPolicy(town=Town.YOKOZE, programme="Yokolab", committee=committee, quorum=1,
                      secretariat_email="office@yokoze.example.jp")


def test_policy_refuses_a_duplicate_reviewer() -> None:
    r = reviewer(Town.YOKOZE, 1)
    with pytest.raises(ValidationError, match="yokoze committee lists a reviewer twice"):
        _yokoze_policy(r, r)


def test_policy_refuses_a_reviewer_of_another_town() -> None:
    stranger = reviewer(Town.BANDAI, 2)
    message = r"includes reviewers of another town: \['bandai-r2'\]"
    with pytest.raises(ValidationError, match=message):
        _yokoze_policy(reviewer(Town.YOKOZE, 1), stranger)


def test_policy_needs_a_committee() -> None:
    with pytest.raises(ValidationError, match="committee"):
        _yokoze_policy()


def test_policy_refuses_a_quorum_larger_than_the_committee() -> None:
    with pytest.raises(ValidationError, match="bandai quorum 4 exceeds its committee of 3"):
        town_policy(Town.BANDAI, members=3, quorum=4)
    assert town_policy(Town.BANDAI, members=3, quorum=3).quorum == 3


def test_programme_policies_must_match_their_towns() -> None:
    with pytest.raises(ValidationError, match="policies must be given as yokoze"):
        policies(yokoze=town_policy(Town.BANDAI))


@pytest.mark.parametrize(("days", "remind"), [(7, 7), (7, 8), (1, 1)])
def test_deadline_reminder_must_fall_inside_the_wait(days: int, remind: int) -> None:
    with pytest.raises(ValidationError, match="the reminder must come after the wait starts"):
        DeadlinePolicy(days=days, remind_days_before=remind)


def test_deadline_policy_bounds() -> None:
    with pytest.raises(ValidationError, match="days"):
        DeadlinePolicy(days=0)
    assert DeadlinePolicy(days=7, remind_days_before=6).remind_days_before == timedelta(days=6)
    assert DeadlinePolicy(days="90s", remind_days_before="30s").days == timedelta(seconds=90)
    assert DeadlinePolicy(days="12h").days == timedelta(hours=12)
    with pytest.raises(ValidationError, match="a duration must be"):
        DeadlinePolicy(days=True)
    with pytest.raises(ValidationError, match="between 1 second and 730 days"):
        DeadlinePolicy(days=731)


# -- names ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("株式会社Foo", "Foo"),
        ("Foo株式会社", "ＦＯＯ"),
        ("Foo Inc.", "foo"),
        ("Satoyama Mobility K.K.", "SATOYAMA MOBILITY"),
        ("(株)ヨコラボ", "ヨコラボ"),
        ("合同会社 Bandai Lab", "bandai lab LLC"),
    ],
)
def test_normalise_name_folds_legal_forms_width_and_case(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_normalise_name_keeps_different_names_apart() -> None:
    assert normalise_name("Foo") != normalise_name("Foobar")
