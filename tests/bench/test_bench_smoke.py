"""`python -m bench --smoke`, in-process: every figure is produced and positive.

Tiny sizes on the tests' PostgreSQL (a database per section, created on the `db_url` server)
and a dev server of the benchmark's own. The targets are never asserted: this machine may be
busy, and the figures of a smoke run mean nothing.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from bench.options import SECTIONS, SMOKE
from bench.report import Figure
from bench.runner import run

# Every figure of a run, by section: the measure's name up to its first parenthesis.
EXPECTED = {
    "store": ["append 1 event, p50", "append 1 event, p95", "append 1 event, p99",
              "events/s, 1 writer, 1-3 per append", "events/s, 2 writers, 1-3 per append",
              "events/s, 1 writer, whole streams", "events/s, 2 writers, whole streams",
              "rebuild, 3,000 events", "log loaded with COPY"],
    "lifecycle": ["lifecycles/s", "one lifecycle, p50 wall time",
                  "CPU per lifecycle: driver", "CPU per lifecycle: worker",
                  "CPU per lifecycle: dev server", "CPU per lifecycle: PostgreSQL"],
    "vote latency": ["p50 under load", "p95 under load", "p99 under load",
                     "p50 one at a time", "p95 one at a time", "p99 one at a time"],
    "profile": ["lifecycles/s under the profiler"],
    "rollout": ["evaluation to all 20 members offered", "members offered per second",
                "withdrawal until all 20 offers withdrawn", "longest history: proposal",
                "longest history: rollout batch", "longest history: member"],
    "scale": ["50 proposals submitted to in review", "CPU per proposal to review: driver",
              "CPU per proposal to review: worker", "CPU per proposal to review: dev server",
              "CPU per proposal to review: PostgreSQL", "worker RSS, idle → 50 open",
              "worker RSS, peak", "dev server RSS, before → 50 open", "dev server RSS, peak"],
}


def profile_files(folder: Path) -> set[str]:
    return {p.name.split("Z", 1)[1] for p in folder.glob("profile-*Z*")}


def name(f: Figure) -> str:
    return f.measure.split(" (")[0]


async def test_a_smoke_run_produces_every_figure_positive(db_url: str, tmp_path: Path) -> None:
    out = io.StringIO()
    report = await run(replace(SMOKE, database_url=db_url, results_dir=str(tmp_path)),
                       Console(file=out, width=160))

    assert list(report.sections) == ["postgres", *SECTIONS]
    produced: dict[str, list[str]] = {}
    for f in report.figures:
        produced.setdefault(f.section, []).append(name(f))
    assert produced == EXPECTED, out.getvalue()[-3000:]
    for f in report.figures:
        assert f.value > 0, f
        assert f.floor is None or f.floor > 0, f
    failed = [n for n in report.notes if "failed" in n or " at " in n]
    assert not failed, failed
    assert {".html", ".txt", ".pyisession", "-hotspots.txt"} <= profile_files(tmp_path)
