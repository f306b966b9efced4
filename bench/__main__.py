"""`python -m bench`: every benchmark in one run, against its floor, with one table.

    python -m bench                 # the full run (sizes and targets: BENCHMARKS.md)
    python -m bench --smoke         # tiny sizes: every figure, in under a minute
    python -m bench --only store    # some sections: store, lifecycle, latency, profile,
                                    # rollout, scale
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rich.console import Console

from bench.options import parse
from bench.report import RESULTS, print_report
from bench.runner import run


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    report = asyncio.run(run(options, console))
    print_report(report, console)
    path = report.write(Path(options.results_dir) if options.results_dir else RESULTS)
    console.print(f"figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
