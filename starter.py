"""kyoso: the command line of the secretariat, the reviewers and the member towns.

    python starter.py submit examples/proposals/yokoze-ondemand-bus.yaml
    python starter.py vote P-XXXXXXXXXX --reviewer yokoze-tanaka --approve --comment "..."
    python starter.py status P-XXXXXXXXXX
    python starter.py --help            # every command; each has its own --help

Bad input or a refused action prints one line and exits with status 1 (2 for usage errors).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cli import render
from domain.commands import (
    Assign,
    CastVote,
    DeclineRollout,
    EvaluatePilot,
    ExtendDeadline,
    FileReport,
    JoinRollout,
    PlanPilot,
    Refer,
    ReportDeployed,
    Revise,
    Withdraw,
)
from domain.deadlines import DeadlineKind
from domain.events import VoteDecision
from domain.network import Municipality
from domain.people import Actor
from domain.pilot import Kpi, KpiValue, PilotEvaluation, PilotOutcome, PilotPlan, PilotReport
from domain.proposal import Proposal, ProposalRevision
from domain.values import JST, PROPOSAL_ID_PATTERN, Role, Town, validate_lgcode
from eventstore import programme, queries
from eventstore.migrate import migrate
from eventstore.store import EventStore
from infra import database
from infra.files import InputFileError, describe_validation, load_model, load_policies
from infra.registry import load_registry
from infra.settings import Settings
from infra.temporal_client import TemporalUnavailable, connect
from workflows.client import member_handle, proposal_handle, start_proposal
from workflows.contracts import ActionResult
from workflows.membership import MembershipWorkflow
from workflows.proposal import ProposalWorkflow

M = TypeVar("M", bound=BaseModel)


class CliError(Exception):
    """One line for the person at the terminal; exit status 1."""


# -- shared context --------------------------------------------------------------------------

class Session:
    """Lazily opened connections: reads need only PostgreSQL, actions only Temporal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._pool: asyncpg.Pool | None = None

    async def client(self) -> Client:
        if self._client is None:
            self._client = await connect()
        return self._client

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            url = database.resolve_url(self.settings.database_url, self.settings.data_dir)
            self._pool = await database.create_pool(url, max_size=2)
            async with self._pool.acquire() as conn:
                await migrate(conn)
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


def _proposal_id(value: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(PROPOSAL_ID_PATTERN, value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a proposal id (like P-7K3M9X2QDA)")
    return value


def _lgcode(value: str) -> str:
    try:
        return validate_lgcode(value.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _deadline(value: str) -> datetime:
    """A date (the end of that day in Japan) or an ISO date-time with a time zone."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), time(23, 59), JST)
        at = datetime.fromisoformat(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from err
    return at if at.tzinfo else at.replace(tzinfo=JST)


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from err


def _pair(value: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise argparse.ArgumentTypeError(f"{value!r} must look like name=value")
    return name.strip(), rest.strip()


def _build(model: type[M], **fields: Any) -> M:
    """A domain command from command-line values, or one clear line saying what is wrong."""
    try:
        return model(**fields)
    except ValidationError as err:
        raise CliError(f"invalid input: {describe_validation(err)}") from err


def _secretariat(args: argparse.Namespace) -> Actor:
    handle = args.as_user or getpass.getuser() or "secretariat"
    return _build(Actor, role=Role.SECRETARIAT, id=re.sub(r"[^A-Za-z0-9._@:-]", "-", handle))


def _print_result(result: ActionResult) -> None:
    extra = f", 採択No.{result.adoption_number}" if result.adoption_number else ""
    render.console.print(f"{result.proposal_id}: {', '.join(result.events) or 'no change'} "
                         f"→ {result.stage}{extra}")


# -- actions on a proposal --------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, Session], Awaitable[None]]


async def _proposal_update(args: argparse.Namespace, s: Session, update: Any, command: Any
                           ) -> None:
    handle = proposal_handle(await s.client(), args.proposal_id)
    _print_result(await handle.execute_update(update, command))


async def _member_update(args: argparse.Namespace, s: Session, update: Any, command: Any
                         ) -> None:
    handle = member_handle(await s.client(), args.proposal_id, args.lgcode)
    _print_result(await handle.execute_update(update, command))


async def cmd_submit(args: argparse.Namespace, s: Session) -> None:
    proposal = load_model(Proposal, args.file)
    policies = load_policies(args.policies or s.settings.policies_file)
    actor = _secretariat(args)
    handle = await start_proposal(await s.client(), proposal, policies,
                                  task_queue=s.settings.task_queue, submitted_by=actor,
                                  proposal_id=args.id)
    pid = handle.id.removeprefix("proposal-")
    if args.wait:
        for _ in range(100):
            state = await handle.query(ProposalWorkflow.current_state)
            if state.stage is not None and state.stage.value != "submitted":
                break
            await asyncio.sleep(0.1)
        render.console.print(f"{pid} submitted: {state.stage.value if state.stage else '-'}")
    else:
        render.console.print(f"{pid} submitted")


async def cmd_vote(args: argparse.Namespace, s: Session) -> None:
    decision = (VoteDecision.APPROVE if args.approve else VoteDecision.REJECT if args.reject
                else VoteDecision.REQUEST_CHANGES)
    await _proposal_update(args, s, ProposalWorkflow.vote, _build(
        CastVote, actor=_build(Actor, role=Role.REVIEWER, id=args.reviewer),
        decision=decision, comment=args.comment))


async def cmd_revise(args: argparse.Namespace, s: Session) -> None:
    if args.file:
        revision = load_model(ProposalRevision, args.file)
    else:
        revision = _build(ProposalRevision, title=args.title, summary=args.summary,
                          requested_support=args.support, note=args.note)
    await _proposal_update(args, s, ProposalWorkflow.revise, _build(
        Revise, actor=Actor(role=Role.PROPOSER, id="proposer"), revision=revision))


async def cmd_withdraw(args: argparse.Namespace, s: Session) -> None:
    actor = (Actor(role=Role.PROPOSER, id="proposer") if args.by == "proposer"
             else _secretariat(args))
    await _proposal_update(args, s, ProposalWorkflow.withdraw,
                           _build(Withdraw, actor=actor, reason=args.reason))


async def cmd_report(args: argparse.Namespace, s: Session) -> None:
    kpis = tuple(_build(KpiValue, name=n, value=v) for n, v in args.kpi)
    await _proposal_update(args, s, ProposalWorkflow.file_report, _build(
        FileReport, actor=Actor(role=Role.PROPOSER, id="proposer"),
        report=_build(PilotReport, summary=args.summary, kpis=kpis)))


async def cmd_assign(args: argparse.Namespace, s: Session) -> None:
    await _proposal_update(args, s, ProposalWorkflow.assign,
                           _build(Assign, actor=_secretariat(args), town=args.town))


async def cmd_refer(args: argparse.Namespace, s: Session) -> None:
    actor = (_build(Actor, role=Role.REVIEWER, id=args.reviewer) if args.reviewer
             else _secretariat(args))
    await _proposal_update(args, s, ProposalWorkflow.refer,
                           _build(Refer, actor=actor, to_town=args.to, reason=args.reason))


async def cmd_extend(args: argparse.Namespace, s: Session) -> None:
    command = _build(ExtendDeadline, actor=_secretariat(args), deadline=args.deadline,
                     due_at=args.until)
    if args.lgcode:
        await _member_update(args, s, MembershipWorkflow.extend_deadline, command)
    else:
        await _proposal_update(args, s, ProposalWorkflow.extend_deadline, command)


async def cmd_plan(args: argparse.Namespace, s: Session) -> None:
    kpis = tuple(_build(Kpi, name=n, target=t) for n, t in args.kpi)
    plan = _build(PilotPlan, start_date=args.start, end_date=args.end, kpis=kpis,
                  description=args.description)
    await _proposal_update(args, s, ProposalWorkflow.plan_pilot,
                           _build(PlanPilot, actor=_secretariat(args), plan=plan))


async def cmd_evaluate(args: argparse.Namespace, s: Session) -> None:
    evaluation = _build(PilotEvaluation, outcome=args.outcome, comment=args.comment,
                        new_end_date=args.new_end)
    await _proposal_update(args, s, ProposalWorkflow.evaluate_pilot,
                           _build(EvaluatePilot, actor=_secretariat(args), evaluation=evaluation))


def _member(args: argparse.Namespace) -> Actor:
    return _build(Actor, role=Role.MEMBER, id=args.lgcode)


async def cmd_join(args: argparse.Namespace, s: Session) -> None:
    await _member_update(args, s, MembershipWorkflow.join, _build(JoinRollout, actor=_member(args)))


async def cmd_decline(args: argparse.Namespace, s: Session) -> None:
    await _member_update(args, s, MembershipWorkflow.decline,
                         _build(DeclineRollout, actor=_member(args), reason=args.reason))


async def cmd_deployed(args: argparse.Namespace, s: Session) -> None:
    await _member_update(args, s, MembershipWorkflow.deployed,
                         _build(ReportDeployed, actor=_member(args), note=args.note))


# -- reading ------------------------------------------------------------------------------------

async def cmd_status(args: argparse.Namespace, s: Session) -> None:
    pool = await s.pool()
    found = await queries.proposal(pool, args.proposal_id)
    timeline = await EventStore(pool).load_proposal(args.proposal_id)
    live = None
    try:
        live = await proposal_handle(await s.client(), args.proposal_id).query(
            ProposalWorkflow.current_state)
    except (RPCError, TemporalUnavailable) as err:
        if found is None:
            raise CliError(f"unknown proposal {args.proposal_id}") from err
    state = live or (found[1] if found else None)
    if state is None:
        raise CliError(f"unknown proposal {args.proposal_id}")
    if args.json:
        print(json.dumps({"state": state.model_dump(mode="json"),
                          "events": [r.event.model_dump(mode="json") for r in timeline]},
                         ensure_ascii=False, indent=2))
        return
    render.console.print(render.state_summary(state))
    render.console.print(render.timeline_table(timeline))
    if live is not None and found is not None and live.version != found[1].version:
        render.console.print(f"[yellow]note: the workflow is at version {live.version}, the "
                             f"database at {found[1].version} (an append is under way)[/yellow]")
    members = await queries.members(pool, args.proposal_id)
    if members:
        counts: dict[str, int] = {}
        for m in members:
            counts[m["status"]] = counts.get(m["status"], 0) + 1
        render.console.print("rollout: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


async def cmd_list(args: argparse.Namespace, s: Session) -> None:
    rows = await queries.list_proposals(await s.pool(), stage=args.stage, town=args.town,
                                        theme=args.theme, open_only=args.open, limit=args.limit)
    render.console.print(render.proposals_table(rows))


async def cmd_notifications(args: argparse.Namespace, s: Session) -> None:
    rows = await queries.notifications(await s.pool(), args.proposal_id, args.limit)
    render.console.print(render.notifications_table(rows))


async def cmd_stats(args: argparse.Namespace, s: Session) -> None:
    print(json.dumps(await queries.stats(await s.pool()), ensure_ascii=False, indent=2,
                     default=str))


# -- programme settings -------------------------------------------------------------------------

async def cmd_intake(args: argparse.Namespace, s: Session) -> None:
    pool = await s.pool()
    if args.action in {"pause", "resume"}:
        if args.town is None:
            raise CliError(f"intake {args.action} needs --town yokoze|bandai")
        if args.action == "pause" and not args.reason:
            raise CliError("intake pause needs --reason")
        await programme.set_intake(pool, args.town, paused=args.action == "pause",
                                   reason=args.reason, actor=_secretariat(args).id)
    for st in await programme.intake_status(pool):
        state = f"paused ({st.reason})" if st.paused else "open"
        render.console.print(f"{st.town.value}: {state} since {render.jst(st.changed_at)} "
                             f"by {st.changed_by}")


async def cmd_network(args: argparse.Namespace, s: Session) -> None:
    pool = await s.pool()
    if args.action == "add":
        registry = load_registry()
        chosen: list[Municipality] = []
        if args.all:
            chosen = list(registry.municipalities.values())
        for code in args.lgcodes:
            m = registry.municipalities.get(code)
            if m is None:
                raise CliError(f"{code} is not a municipality's lgcode")
            chosen.append(m.model_copy(update={"contact_email": args.email}) if args.email else m)
        if args.prefecture:
            chosen += [m for m in registry.municipalities.values()
                       if m.prefecture == args.prefecture]
        if not chosen:
            raise CliError("name lgcodes, --prefecture or --all")
        added = await programme.add_members(pool, chosen, _secretariat(args).id)
        render.console.print(f"{added} municipalities joined the network")
    members = await programme.members(pool)
    render.console.print(f"the network has {len(members)} members")
    if args.action == "list":
        for m in members:
            render.console.print(f"{m.lgcode} {m.label}")


async def cmd_replay(args: argparse.Namespace, s: Session) -> None:
    """Replay a proposal's recorded history with this code: proof a deploy is safe for it."""
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Replayer

    from worker import SANDBOX, WORKFLOWS

    history = await proposal_handle(await s.client(), args.proposal_id).fetch_history()
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter,
                        workflow_runner=SANDBOX)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is not None:
        raise CliError(f"replay of {args.proposal_id} failed: {result.replay_failure}")
    render.console.print(f"{args.proposal_id}: {len(history.events)} history events replay "
                         "deterministically with this code")


async def cmd_migrate(args: argparse.Namespace, s: Session) -> None:
    await s.pool()
    render.console.print("database schema is up to date")


# -- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="starter.py", description="kyoso: co-creation proposals across Yokoze, Bandai "
        "and the wide-area network (共創ネットワーク).")
    p.add_argument("--as", dest="as_user", metavar="HANDLE",
                   help="secretariat handle recorded as the actor (default: your user name)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help: str, pid: bool = True
                ) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help, description=help)
        if pid:
            c.add_argument("proposal_id", type=_proposal_id, help="proposal id, e.g. P-7K3M9X2QDA")
        c.set_defaults(handler=handler)
        return c

    c = command("submit", cmd_submit, "submit a proposal from a YAML or JSON file", pid=False)
    c.add_argument("file", type=Path, help="proposal file (see examples/proposals/)")
    c.add_argument("--policies", type=Path, help="town policies YAML (default: shipped)")
    c.add_argument("--id", type=_proposal_id, help="use this proposal id instead of a new one")
    c.add_argument("--wait", action="store_true", help="wait for the intake checks' outcome")

    c = command("vote", cmd_vote, "vote on a proposal as a reviewer of its committee")
    c.add_argument("--reviewer", required=True, help="your reviewer id, e.g. yokoze-tanaka")
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--approve", action="store_true")
    g.add_argument("--reject", action="store_true")
    g.add_argument("--request-changes", action="store_true")
    c.add_argument("--comment", required=True, help="the reason for your vote")

    c = command("revise", cmd_revise, "revise a proposal after changes were requested")
    c.add_argument("--file", type=Path, help="revision YAML (title/summary/requested_support/note)")
    c.add_argument("--title")
    c.add_argument("--summary")
    c.add_argument("--support", help="new requested support")
    c.add_argument("--note", help="what changed and why")

    c = command("withdraw", cmd_withdraw, "withdraw a proposal (any time before completion)")
    c.add_argument("--reason", required=True)
    c.add_argument("--by", choices=["proposer", "secretariat"], default="proposer")

    c = command("report", cmd_report, "file a pilot progress report as the proposer")
    c.add_argument("--summary", required=True)
    c.add_argument("--kpi", type=_pair, action="append", default=[], metavar="NAME=VALUE")

    c = command("assign", cmd_assign, "assign a proposal open to either town to a committee")
    c.add_argument("--town", type=Town, choices=list(Town), required=True)

    c = command("refer", cmd_refer, "refer a proposal to the other town's committee")
    c.add_argument("--to", type=Town, choices=list(Town), required=True)
    c.add_argument("--reason", required=True)
    c.add_argument("--reviewer", help="refer as this committee reviewer (default: secretariat)")

    c = command("extend", cmd_extend, "extend an open deadline")
    c.add_argument("--deadline", type=DeadlineKind, required=True,
                   choices=[k for k in DeadlineKind if k.waits_for_a_person])
    c.add_argument("--until", type=_deadline, required=True,
                   help="YYYY-MM-DD (end of that day, JST) or an ISO date-time")
    c.add_argument("--lgcode", type=_lgcode,
                   help="extend a member municipality's rollout deadline")

    c = command("plan", cmd_plan, "record the pilot plan of an adopted proposal")
    c.add_argument("--start", type=_iso_date, required=True)
    c.add_argument("--end", type=_iso_date, required=True)
    c.add_argument("--kpi", type=_pair, action="append", default=[], metavar="NAME=TARGET")
    c.add_argument("--description")

    c = command("evaluate", cmd_evaluate, "evaluate a finished pilot")
    c.add_argument("--outcome", type=PilotOutcome, choices=list(PilotOutcome), required=True)
    c.add_argument("--comment", required=True)
    c.add_argument("--new-end", type=_iso_date, help="new end date when extending")

    for name, handler, text in (
        ("join", cmd_join, "join the rollout of a proven pilot as a member municipality"),
        ("decline", cmd_decline, "decline a rollout offer as a member municipality"),
        ("deployed", cmd_deployed, "report that a member municipality has deployed the pilot"),
    ):
        c = command(name, handler, text)
        c.add_argument("--lgcode", type=_lgcode, required=True,
                       help="your municipality's 6-digit lgcode")
        if name == "decline":
            c.add_argument("--reason", required=True)
        if name == "deployed":
            c.add_argument("--note", required=True)

    c = command("status", cmd_status, "show a proposal's state and its event timeline")
    c.add_argument("--json", action="store_true")

    c = command("list", cmd_list, "list proposals", pid=False)
    c.add_argument("--stage")
    c.add_argument("--town", choices=[t.value for t in Town])
    c.add_argument("--theme")
    c.add_argument("--open", action="store_true", help="only proposals still open")
    c.add_argument("--limit", type=int, default=50)

    c = command("notifications", cmd_notifications, "what was sent to whom, and when", pid=False)
    c.add_argument("proposal_id", nargs="?", type=_proposal_id)
    c.add_argument("--limit", type=int, default=100)

    command("stats", cmd_stats, "counts by town and stage, adoption numbers", pid=False)

    c = command("intake", cmd_intake, "show, pause or resume a town's intake", pid=False)
    c.add_argument("action", choices=["status", "pause", "resume"])
    c.add_argument("--town", type=Town, choices=list(Town))
    c.add_argument("--reason")

    c = command("network", cmd_network, "list or add member municipalities", pid=False)
    c.add_argument("action", choices=["list", "add", "count"])
    c.add_argument("lgcodes", nargs="*", type=_lgcode)
    c.add_argument("--prefecture", help="add every municipality of this prefecture (e.g. 埼玉県)")
    c.add_argument("--all", action="store_true", help="add all 1,741 municipalities")
    c.add_argument("--email", help="contact address of the municipalities named")

    command("replay", cmd_replay, "replay a proposal's workflow history with this code "
            "(operators: check a deploy is safe)")
    command("migrate", cmd_migrate, "apply database migrations", pid=False)
    return p


def explain(err: BaseException, args: argparse.Namespace) -> str:
    """One line for any failure a person can meet."""
    if isinstance(err, WorkflowUpdateFailedError):
        cause: BaseException | None = err.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.__cause__
        return f"refused: {cause.message if cause else err}"
    if isinstance(err, RPCError) and err.status is RPCStatusCode.NOT_FOUND:
        pid = getattr(args, "proposal_id", None)
        if getattr(args, "lgcode", None):
            return (f"no rollout offer of {pid} to {args.lgcode} is open "
                    "(unknown proposal, or not offered to this municipality)")
        return f"unknown proposal {pid}"
    if isinstance(err, RPCError):
        return f"Temporal refused the request: {err.message}"
    if isinstance(err, CliError | InputFileError | TemporalUnavailable |
                  database.DatabaseUnavailable):
        return str(err)
    if isinstance(err, ValidationError):
        return f"invalid input: {describe_validation(err)}"
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from domain.errors import DomainError

    if isinstance(err, DomainError):
        return f"refused: {err}"
    if isinstance(err, WorkflowAlreadyStartedError):
        return f"a proposal with id {args.id} already exists"
    return f"{type(err).__name__}: {err}"


async def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as err:
        print(f"starter.py: {err}", file=sys.stderr)
        return 2
    session = Session(settings)
    try:
        await args.handler(args, session)
        return 0
    except Exception as err:
        print(f"starter.py {args.command}: {explain(err, args)}", file=sys.stderr)
        return 1
    finally:
        await session.close()


def main() -> None:
    code = asyncio.run(run())
    # All work is done and every connection closed. The Temporal client's native runtime can
    # race the interpreter's finalisation and abort an otherwise finished process (seen as
    # exit status -6/-11 once in a few hundred runs), so leave without finalising.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()

