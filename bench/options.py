"""What a run measures and how big: the defaults, --smoke, and the command line."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, replace
from typing import Any

SECTIONS = ("store", "lifecycle", "latency", "profile", "rollout", "scale")


@dataclass(frozen=True)
class Options:
    sections: tuple[str, ...] = SECTIONS
    # (1) lifecycles, kyoso's and the floor's, and (2) the vote latency under their load
    proposals: int = 500
    concurrency: int = 100  # enough to saturate 2 cores with 20-s pilots in every lifecycle
    pilot_delay: float = 1.0  # seconds from the pilot plan to its exact start
    # Seconds the pilot runs. Two report Updates must fit in it under full load: at 8 s, a
    # sixth of kyoso's lifecycles failed (reports answered in 2-4 s each once saturated).
    pilot_length: float = 20.0
    # (2) vote latency at light load: proposals voted on one vote at a time (3 votes each)
    light_proposals: int = 100
    # (3) event store
    append_samples: int = 3000  # single-event appends timed one by one
    writer_lifecycles: int = 300  # lifecycles appended by one writer (24 events each)
    writers: int = 8
    rebuild_events: int = 1_000_000
    # (4) scale
    open_proposals: int = 10_000
    rollout_members: int | None = None  # None: every municipality of Japan (1,740 + host)
    max_cached_workflows: int | None = None  # None: the SDK's default, as in production
    # (5) profile
    profile_proposals: int = 40
    # servers
    temporal_address: str | None = None
    namespace: str = "default"
    database_url: str | None = None
    results_dir: str | None = None  # default: bench/results
    smoke: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SMOKE = Options(proposals=3, concurrency=3, pilot_delay=0.5, pilot_length=1.5,
                light_proposals=2, append_samples=60, writer_lifecycles=6, writers=2,
                rebuild_events=3000, open_proposals=50, rollout_members=20,
                profile_proposals=2, smoke=True)


def parse(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of kyoso against their floors, in one run (see BENCHMARKS.md).")
    p.add_argument("--smoke", action="store_true", help="a tiny run: every figure, in seconds")
    p.add_argument("--only", help=f"comma-separated sections: {', '.join(SECTIONS)}")
    p.add_argument("-n", "--proposals", type=int, help="lifecycles driven, each (default 500)")
    p.add_argument("-c", "--concurrency", type=int, help="lifecycles in flight (default 100)")
    p.add_argument("--light-proposals", type=int, help="proposals voted on one at a time (100)")
    p.add_argument("--rebuild-events", type=int, help="events in the rebuilt log (1,000,000)")
    p.add_argument("--open-proposals", type=int, help="proposals open at once (10,000)")
    p.add_argument("--rollout-members", type=int,
                   help="members offered the big rollout (default: all 1,740)")
    p.add_argument("--max-cached-workflows", type=int,
                   help="the scale section's worker cache (default: the SDK's, 1,000)")
    p.add_argument("--pilot-length", type=float, help="seconds a benchmark pilot runs (20)")
    p.add_argument("--temporal-address", help="use this Temporal server instead of starting one")
    p.add_argument("--namespace", help="its namespace (default)")
    p.add_argument("--database-url",
                   help="PostgreSQL server where the user may create databases (default: "
                        "DATABASE_URL, else an embedded server in a temporary folder)")
    p.add_argument("--results-dir", help="where figures and profiles go (bench/results)")
    args = p.parse_args(argv)
    opts = SMOKE if args.smoke else Options()
    if args.only:
        wanted = tuple(s.strip() for s in args.only.split(",") if s.strip())
        unknown = [s for s in wanted if s not in SECTIONS]
        if unknown:
            p.error(f"unknown section(s): {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
        opts = replace(opts, sections=tuple(s for s in SECTIONS if s in wanted))
    changes: dict[str, Any] = {
        k: v for k, v in vars(args).items()
        if v is not None and k not in {"smoke", "only"} and hasattr(opts, k)}
    if "database_url" not in changes and os.environ.get("DATABASE_URL"):
        changes["database_url"] = os.environ["DATABASE_URL"]
    opts = replace(opts, **changes)
    if opts.proposals < 1 or opts.concurrency < 1:
        p.error("--proposals and --concurrency must be at least 1")
    return opts
