"""The figures of a run: one table on the terminal, one JSON file under bench/results/."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Figure:
    """One measured value, with the floor (or plain baseline) it is compared with."""

    section: str
    measure: str
    value: float
    unit: str
    floor: float | None = None
    floor_label: str = ""
    target: str = ""  # e.g. ">= 0.8 x floor", "< 1 ms"
    met: bool | None = None  # None: no target, or not applicable

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.floor == 0:
            return None
        return self.value / self.floor


@dataclass
class Report:
    machine: dict[str, Any]
    options: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)
    sections: dict[str, float] = field(default_factory=dict)  # section -> elapsed seconds
    notes: list[str] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def values(self) -> dict[str, float]:
        return {f"{f.section}/{f.measure}": f.value for f in self.figures}

    def to_json(self) -> dict[str, Any]:
        return {
            "started": self.started, "machine": self.machine, "options": self.options,
            "sections_seconds": self.sections, "notes": self.notes,
            "figures": [{**asdict(f), "ratio": f.ratio} for f in self.figures],
        }

    def write(self, directory: Path = RESULTS) -> Path:
        """The JSON figures, and beside them the same run as Markdown (for BENCHMARKS.md)."""
        directory.mkdir(parents=True, exist_ok=True)
        stamp = self.started.replace(":", "").replace("-", "").replace("+0000", "Z")
        path = directory / f"bench-{stamp}.json"
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        path.with_suffix(".md").write_text(markdown(self), encoding="utf-8")
        return path


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cells(f: Figure) -> tuple[str, str, str, str, str, str, str]:
    floor = f"{_number(f.floor)} {f.unit} ({f.floor_label})" if f.floor is not None else ""
    ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
    met = {True: "yes", False: "no", None: ""}[f.met]
    return f.section, f.measure, f"{_number(f.value)} {f.unit}", floor, ratio, f.target, met


def markdown(report: Report) -> str:
    """The run as Markdown: the machine, the table of figures, the time each section took."""
    m = report.machine
    lines = [
        f"Run of {report.started}: {m.get('cpu')}, {m.get('cores')} cores, "
        f"{m.get('ram_gib')} GiB, {m.get('os')}; Python {m.get('python')}, "
        f"{m.get('postgresql')}, Temporal dev server {m.get('temporal_server') or '?'} "
        f"(CLI {m.get('temporal_cli')}); load average at start "
        f"{', '.join(str(x) for x in m.get('load_average_at_start', []))}.",
        "",
        "| section | measure | value | floor / baseline | ratio | target | met |",
        "|---|---|--:|---|--:|---|---|",
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(f)) + " |"
              for f in report.figures]
    lines += ["", "Elapsed: " + ", ".join(f"{k} {v:.0f} s" for k, v in report.sections.items())
              + f"; total {sum(report.sections.values()):.0f} s.", ""]
    lines += [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def table(report: Report) -> Table:
    t = Table(title="kyoso benchmarks", title_justify="left")
    for col in ("section", "measure", "value", "floor / baseline", "ratio", "target", "met"):
        t.add_column(col, justify="right" if col in {"value", "ratio"} else "left")
    for f in report.figures:
        *cells, met = _cells(f)
        t.add_row(*cells, {"yes": "[green]yes[/green]", "no": "[red]no[/red]"}.get(met, ""))
    return t


def print_report(report: Report, console: Console) -> None:
    console.print(table(report))
    console.print("elapsed: " + ", ".join(f"{k} {v:.0f}s" for k, v in report.sections.items())
                  + f"; total {sum(report.sections.values()):.0f}s")
    for note in report.notes:
        console.print(f"note: {note}")
