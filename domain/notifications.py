"""Who is told what, for each event: pure, so the workflow computes it deterministically and the
event store writes the notifications in the same transaction as the events (an outbox).

Rendering to text happens at delivery, from the template name and payload, so a value that the
store allocates in the append (the adoption number) can still appear in the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal
from uuid import UUID

from domain.deadlines import DeadlineKind
from domain.events import (
    ChangesRequested,
    DeadlineExtended,
    Escalated,
    Event,
    Expired,
    IntakeAccepted,
    IntakeRejected,
    MemberDeclined,
    MemberDeployed,
    MemberDeploymentExpired,
    MemberJoined,
    MemberLapsed,
    MemberOffered,
    MemberOfferWithdrawn,
    PilotEnded,
    PilotEvaluated,
    PilotPlanned,
    PilotReportFiled,
    PilotStarted,
    ProposalAdopted,
    ProposalCompleted,
    ProposalReferred,
    ProposalRejected,
    ProposalSubmitted,
    ProposalWithdrawn,
    ReminderSent,
    ReviewStarted,
    RolloutOffered,
)
from domain.proposal import Model
from domain.rollout import MembershipState, evolve_member
from domain.state import ProposalState, evolve
from domain.values import JST, Role, Town

Payload = dict[str, str | int | None]


class Notification(Model):
    key: str  # idempotency key: one message per event and recipient
    proposal_id: str
    event_id: UUID
    recipient_role: Role
    recipient_id: str
    address: str | None
    channel: Literal["email", "record"]
    template: str
    payload: Payload


class _Recipient(Model):
    role: Role
    id: str
    address: str | None


def _proposer(s: ProposalState) -> _Recipient:
    assert s.proposal is not None
    return _Recipient(role=Role.PROPOSER, id="proposer", address=s.proposal.proposer.contact.email)


def _secretariat(s: ProposalState, town: Town | None = None) -> _Recipient:
    assert s.policies is not None
    town = town or s.town or s.policies.default_town
    return _Recipient(role=Role.SECRETARIAT, id=f"{town.value}-secretariat",
                      address=s.policies.of(town).secretariat_email)


def _reviewers(s: ProposalState, ids: Iterable[str]) -> list[_Recipient]:
    assert s.policies is not None
    found = [s.policies.find_reviewer(i) for i in ids]
    return [_Recipient(role=Role.REVIEWER, id=r.reviewer_id, address=r.email) for r in found if r]


def _when(e: Event) -> str:
    return e.occurred_at.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def _date(d: object) -> str | None:
    from datetime import datetime

    return d.astimezone(JST).strftime("%Y-%m-%d") if isinstance(d, datetime) else None


def _base(s: ProposalState) -> Payload:
    assert s.proposal is not None
    return {
        "proposal_id": s.proposal_id,
        "title": s.proposal.title,
        "organisation": s.proposal.proposer.organisation,
        "town": s.town.value if s.town else None,
        "programme": s.policies.of(s.town).programme if s.town and s.policies else None,
    }


def _who_for_proposal(before: ProposalState, after: ProposalState, e: Event
                      ) -> tuple[str, list[_Recipient], Payload] | None:
    """(template, recipients, extra payload) for one event of a proposal's stream."""
    s = after
    match e:
        case ProposalSubmitted():
            # The preferred town's office; the routing rule only places "either" proposals.
            assert s.policies is not None
            assert s.proposal is not None
            town = s.proposal.preferred_town.town or s.policies.route(s.proposal.theme)
            return "submitted", [_secretariat(s, town)], {}
        case IntakeAccepted():
            who = [_proposer(s)]
            if e.assignment is not None:
                who += [_secretariat(s, Town.YOKOZE), _secretariat(s, Town.BANDAI)]
            return "intake_accepted", who, {"due": _date(e.assignment.due_at if e.assignment
                                                         else None)}
        case IntakeRejected():
            return "intake_rejected", [_proposer(s)], {"reason": e.reason}
        case ReviewStarted():
            return "review_started", [_proposer(s), *_reviewers(s, e.eligible)], {
                "round": e.round, "due": _date(e.deadline.due_at), "reason": e.reason.value}
        case ChangesRequested():
            return "changes_requested", [_proposer(s)], {
                "comments": "\n- ".join(("", *e.comments)).strip(), "due": _date(e.deadline.due_at)}
        case ProposalReferred():
            return "referred", [_proposer(s), _secretariat(s, e.from_town),
                                _secretariat(s, e.to_town)], {
                "from_town": e.from_town.value, "to_town": e.to_town.value, "reason": e.reason}
        case ProposalAdopted():
            # The store merges the allocated adoption_number into this payload.
            return "adopted", [_proposer(s), _secretariat(s)], {"adoption_number": None}
        case ProposalRejected():
            return "rejected", [_proposer(s), _secretariat(s)], {}
        case ProposalWithdrawn():
            who = [_secretariat(s)]
            if e.stage.value == "in_review":
                who += _reviewers(s, before.eligible)
            return "withdrawn", who, {"reason": e.reason}
        case PilotPlanned():
            return "pilot_planned", [_proposer(s)], {
                "start": e.plan.start_date.isoformat(), "end": e.plan.end_date.isoformat()}
        case PilotStarted():
            return "pilot_started", [_proposer(s), _secretariat(s)], {
                "next_report": _date(e.report.due_at) if e.report else "none before the end"}
        case PilotReportFiled():
            return "report_filed", [_secretariat(s)], {"number": e.number}
        case PilotEnded():
            return "pilot_ended", [_secretariat(s)], {"due": _date(e.evaluation.due_at)}
        case PilotEvaluated():
            return "pilot_evaluated", [_proposer(s), _secretariat(s)], {
                "outcome": e.evaluation.outcome.value,
                "new_end": e.evaluation.new_end_date.isoformat()
                if e.evaluation.new_end_date else None}
        case RolloutOffered():
            return "rollout_offered", [_proposer(s), _secretariat(s)], {
                "members": len(e.members), "due": _date(e.window_due_at)}
        case ProposalCompleted():
            return "completed", [_proposer(s), _secretariat(s)], {
                "joined": e.summary.joined, "deployed": e.summary.deployed}
        case ReminderSent():
            return "reminder", _owners(before, e.kind), {
                "wait": e.kind.label, "due": _date(e.due_at), "kind": e.kind.value}
        case Escalated():
            who = [_secretariat(s)]
            if e.kind is DeadlineKind.REVIEW and s.policies and s.town:
                who += [_Recipient(role=Role.REVIEWER, id=r.reviewer_id, address=r.email)
                        for r in s.policies.of(s.town).committee if r.chair]
            return "escalated", who, {"wait": e.kind.label, "reason": e.reason,
                                      "kind": e.kind.value}
        case DeadlineExtended():
            return "deadline_extended", [*_owners(after, e.kind), _secretariat(s)], {
                "wait": e.kind.label, "due": _date(e.deadline.due_at), "kind": e.kind.value}
        case Expired():
            return "expired", [_proposer(s), _secretariat(s)], {"wait": e.kind.label,
                                                                "kind": e.kind.value}
    return None


def _owners(s: ProposalState, kind: DeadlineKind) -> list[_Recipient]:
    """Who must act to end a wait of this kind (reminders go to them)."""
    if kind is DeadlineKind.REVIEW:
        voted = {v.reviewer_id for v in s.votes}
        return _reviewers(s, [r for r in s.eligible if r not in voted])
    if kind in {DeadlineKind.REVISION, DeadlineKind.REPORT}:
        return [_proposer(s)]
    if kind is DeadlineKind.ASSIGNMENT:
        return [_secretariat(s, Town.YOKOZE), _secretariat(s, Town.BANDAI)]
    return [_secretariat(s)]


def _make(e: Event, template: str, who: Sequence[_Recipient], payload: Payload
          ) -> list[Notification]:
    seen: set[tuple[Role, str]] = set()
    out = []
    for r in who:
        if (r.role, r.id) in seen:
            continue
        seen.add((r.role, r.id))
        out.append(Notification(
            key=f"{e.event_id}/{r.role.value}/{r.id}", proposal_id=e.proposal_id,
            event_id=e.event_id, recipient_role=r.role, recipient_id=r.id, address=r.address,
            channel="email" if r.address else "record", template=template,
            payload={**payload, "at": _when(e)},
        ))
    return out


def for_proposal(before: ProposalState, events: Iterable[Event]) -> list[Notification]:
    out: list[Notification] = []
    state = before
    for e in events:
        after = evolve(state, e)
        found = _who_for_proposal(state, after, e)
        if found is not None:
            template, who, extra = found
            out += _make(e, template, who, {**_base(after), **extra})
        state = after
    return out


# -- member streams -----------------------------------------------------------------------------

def _member(s: MembershipState) -> _Recipient:
    assert s.municipality is not None
    return _Recipient(role=Role.MEMBER, id=s.municipality.lgcode,
                      address=s.municipality.contact_email)


def for_member(before: MembershipState, events: Iterable[Event],
               secretariat_email: str | None = None) -> list[Notification]:
    out: list[Notification] = []
    state = before
    for e in events:
        s = evolve_member(state, e)
        assert s.municipality is not None and s.host_town is not None
        host = _Recipient(role=Role.SECRETARIAT, id=f"{s.host_town.value}-secretariat",
                          address=secretariat_email)
        base: Payload = {"proposal_id": s.proposal_id, "title": s.title,
                         "member": s.municipality.label, "lgcode": s.lgcode,
                         "town": s.host_town.value}
        found: tuple[str, list[_Recipient], Payload] | None = None
        match e:
            case MemberOffered():
                found = ("member_offered", [_member(s)], {"due": _date(e.window.due_at)})
            case MemberJoined():
                found = ("member_joined", [host], {"due": _date(e.deployment.due_at)})
            case MemberDeclined():
                found = ("member_declined", [host], {"reason": e.reason})
            case MemberDeployed():
                found = ("member_deployed", [host], {})
            case MemberLapsed():
                found = ("member_lapsed", [_member(s), host], {})
            case MemberDeploymentExpired():
                found = ("member_deployment_expired", [_member(s), host], {})
            case MemberOfferWithdrawn():
                found = ("member_offer_withdrawn", [_member(s)], {"reason": e.reason})
            case ReminderSent():
                found = ("reminder", [_member(s)], {"wait": e.kind.label, "due": _date(e.due_at),
                                                   "kind": e.kind.value})
            case DeadlineExtended():
                found = ("deadline_extended", [_member(s), host], {
                    "wait": e.kind.label, "due": _date(e.deadline.due_at), "kind": e.kind.value})
            case Escalated():
                found = ("escalated", [host], {"wait": e.kind.label, "reason": e.reason,
                                               "kind": e.kind.value})
        if found is not None:
            template, who, extra = found
            out += _make(e, template, who, {**base, **extra})
        state = s
    return out


# -- rendering ----------------------------------------------------------------------------------

TEMPLATES: dict[str, tuple[str, str]] = {
    "submitted": ("[{proposal_id}] 新しい提案 / New proposal: {title}",
                  "{organisation} submitted “{title}”. Intake checks follow."),
    "intake_accepted": ("[{proposal_id}] 提案を受け付けました / Proposal received",
                        "Thank you: “{title}” passed the intake checks and goes to review."),
    "intake_rejected": ("[{proposal_id}] 受付できませんでした / Proposal not accepted",
                        "“{title}” could not be accepted: {reason}."),
    "review_started": ("[{proposal_id}] 審査開始 / Review round {round}",
                       "“{title}” is under review by {programme} (round {round}); "
                       "a decision is due by {due}."),
    "changes_requested": ("[{proposal_id}] 修正のお願い / Changes requested",
                          "The committee asks for changes to “{title}” by {due}:\n{comments}"),
    "referred": ("[{proposal_id}] 他町へ紹介 / Referred to {to_town}",
                 "“{title}” was referred from {from_town} to {to_town}: {reason}"),
    "adopted": ("[{proposal_id}] 採択 No.{adoption_number} / Adopted",
                "“{title}” was adopted by {programme} as 採択No.{adoption_number}."),
    "rejected": ("[{proposal_id}] 不採択 / Not adopted",
                 "The committee of {programme} did not adopt “{title}”."),
    "withdrawn": ("[{proposal_id}] 取り下げ / Withdrawn", "“{title}” was withdrawn: {reason}"),
    "pilot_planned": ("[{proposal_id}] 実証実験の計画 / Pilot planned",
                      "The pilot of “{title}” runs from {start} to {end}."),
    "pilot_started": ("[{proposal_id}] 実証実験開始 / Pilot started",
                      "The pilot of “{title}” has started; first progress report due: "
                      "{next_report}."),
    "report_filed": ("[{proposal_id}] 報告書 {number} / Report {number} filed",
                     "Progress report {number} of “{title}” was filed."),
    "pilot_ended": ("[{proposal_id}] 実証実験終了 / Pilot ended: please evaluate",
                    "The pilot of “{title}” has ended; evaluate it by {due}."),
    "pilot_evaluated": ("[{proposal_id}] 評価 / Pilot evaluated: {outcome}",
                        "The pilot of “{title}” was evaluated: {outcome}."),
    "rollout_offered": ("[{proposal_id}] 広域実装 / Rollout offered to {members} members",
                        "“{title}” is offered to {members} municipalities until {due}."),
    "completed": ("[{proposal_id}] 完了 / Completed",
                  "“{title}” is complete: {joined} joined, {deployed} deployed."),
    "reminder": ("[{proposal_id}] リマインダー / Reminder: {wait} due {due}",
                 "Reminder: {wait} for “{title}” is due on {due}."),
    "escalated": ("[{proposal_id}] エスカレーション / Escalation: {wait}",
                  "“{title}”: {reason}"),
    "deadline_extended": ("[{proposal_id}] 期限延長 / Deadline extended: {wait}",
                          "The deadline for {wait} (“{title}”) is now {due}."),
    "expired": ("[{proposal_id}] 期限切れ / Expired",
                "“{title}” expired: no answer by the deadline for {wait}."),
    "member_offered": ("[{proposal_id}] 広域実装のご案内 / Rollout offer to {member}",
                       "{member} is invited to implement “{title}”; please join or decline "
                       "by {due}."),
    "member_joined": ("[{proposal_id}] {member} 参加 / {member} joined",
                      "{member} joined the rollout of “{title}”; deployment due {due}."),
    "member_declined": ("[{proposal_id}] {member} 辞退 / {member} declined",
                        "{member} declined the rollout of “{title}”: {reason}"),
    "member_deployed": ("[{proposal_id}] {member} 実装完了 / {member} deployed",
                        "{member} deployed “{title}”."),
    "member_lapsed": ("[{proposal_id}] {member} 回答なし / No answer from {member}",
                      "{member} did not answer the rollout offer of “{title}” in time."),
    "member_deployment_expired": ("[{proposal_id}] {member} 未実装 / {member} did not deploy",
                                  "{member} did not report deploying “{title}” in time."),
    "member_offer_withdrawn": ("[{proposal_id}] 案内の取消 / Offer withdrawn",
                               "The rollout offer of “{title}” was withdrawn: {reason}"),
}


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "?"


def render(template: str, payload: Payload) -> tuple[str, str]:
    subject, body = TEMPLATES[template]
    values = _Blank({k: ("?" if v is None else v) for k, v in payload.items()})
    return subject.format_map(values), body.format_map(values) + f"\n\n({payload.get('at')})"
