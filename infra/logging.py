"""structlog for the whole process: JSON lines in production, readable in a terminal.

Standard-library records (Temporal's workflow and activity loggers included) go through the
same renderer, with the ids Temporal attaches lifted into top-level keys. Personal data
(names, e-mail addresses, phone numbers) is never logged: callers log ids, types and counts.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def _lift_temporal_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in ("temporal_workflow", "temporal_activity"):
        info = event.pop(key, None)
        if isinstance(info, dict):
            for src, dst in (("workflow_id", "workflow_id"), ("run_id", "run_id"),
                             ("workflow_run_id", "run_id"), ("workflow_type", "workflow_type"),
                             ("activity_type", "activity_type"), ("attempt", "attempt")):
                if src in info:
                    event.setdefault(dst, info[src])
    return event


def configure(fmt: str = "json", level: str = "INFO") -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _lift_temporal_ids,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=[*shared, structlog.processors.StackInfoRenderer(),
                    structlog.processors.format_exc_info,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("asyncio", "aiosmtpd", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
