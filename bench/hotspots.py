"""A summary of a pyinstrument profile: where the time goes, by package and by function."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

# Functions whose inclusive time is worth knowing (matched against the function name).
WATCH = ("record_events", "deliver_notifications", "check_intake", "rollout_targets",
         "append", "apply", "rebuild", "parse_event", "model_validate_json",
         "model_dump_json", "validate_email", "_check_text", "activate", "decide", "evolve",
         "for_proposal", "to_payloads", "from_payloads", "select")


def _frames(frame: Any, ancestors: frozenset[str] = frozenset()
            ) -> Iterator[tuple[Any, bool]]:
    """Every frame, with whether an ancestor has the same name (recursion, or a wrapper of
    the same name: counted once)."""
    yield frame, frame.function in ancestors
    for child in frame.children:
        yield from _frames(child, ancestors | {frame.function})


_SITE = re.compile(r"site-packages/([^/]+)/")
_PROJECT = re.compile(r"/work/main/([^/]+)/|/(domain|eventstore|activities|workflows|infra|"
                      r"bench)/")


def package(path: str | None) -> str:
    if not path:
        return "(native or synthetic)"
    if m := _SITE.search(path):
        return m[1]
    if m := _PROJECT.search(path):
        return f"kyoso {m[1] or m[2]}"
    if "/lib/python3" in path:
        stdlib = path.rsplit("/lib/python3", 1)[1].split("/")
        return f"stdlib {stdlib[1].removesuffix('.py')}" if len(stdlib) > 1 else "stdlib"
    return path.rsplit("/", 1)[-1]


def summary(root: Any, top: int = 30) -> str:
    total = root.time or 1.0
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frame, recursive in _frames(root):
        if frame.is_synthetic:
            continue
        self_time = frame.total_self_time
        by_package[package(frame.file_path)] += self_time
        by_function[f"{frame.function}  ({frame.file_path_short}:{frame.line_no})"] += self_time
        if not recursive and frame.function in WATCH:
            inclusive[f"{frame.function}  ({package(frame.file_path)})"] += frame.time
    lines = [f"profiled wall time of the worker's main thread: {total:.1f} s", "",
             "self time by package:"]
    lines += [f"  {t / total:6.1%}  {t:7.2f} s  {name}" for name, t in by_package.most_common(25)]
    lines += ["", f"top {top} functions by self time:"]
    lines += [f"  {t / total:6.1%}  {t:7.2f} s  {name}"
              for name, t in by_function.most_common(top)]
    lines += ["", "inclusive time of chosen functions:"]
    lines += [f"  {t / total:6.1%}  {t:7.2f} s  {name}" for name, t in inclusive.most_common()]
    return "\n".join(lines) + "\n"
