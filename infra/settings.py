"""Every environment variable kyoso reads, with its default, in one place.

Temporal's own connection variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE) are read by `temporalio.envconfig`
in `infra.temporal_client`; they are listed here too so that documentation and the compose
file can be checked against one list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TASK_QUEUE = "kyoso"

# name -> (default, meaning). The README's configuration table is generated from this.
VARIABLES: dict[str, tuple[str, str]] = {
    "DATABASE_URL": ("(embedded PostgreSQL under KYOSO_DATA_DIR)",
                     "PostgreSQL URL of the event store"),
    "KYOSO_DATA_DIR": (".data", "where the embedded PostgreSQL and the dev server keep files"),
    "KYOSO_TASK_QUEUE": (DEFAULT_TASK_QUEUE, "Temporal task queue of the worker"),
    "KYOSO_POLICIES_FILE": ("(shipped infra/data/policies.yaml)",
                            "YAML with both towns' committees, quorum and deadlines"),
    "KYOSO_DB_POOL_SIZE": ("10", "largest number of PostgreSQL connections per process"),
    "SMTP_URL": ("(unset: notifications are logged, not mailed)",
                 "smtp://user:password@host:port, or smtps://…; ?starttls=true for STARTTLS"),
    "KYOSO_MAIL_FROM": ("kyoso@localhost", "From address of notification e-mails"),
    "KYOSO_LOG_FORMAT": ("json", "json (production) or console"),
    "KYOSO_LOG_LEVEL": ("INFO", "log level"),
    "KYOSO_TEMPORAL_PORT": ("7233", "port of the dev server the demo starts"),
    "KYOSO_UI_PORT": ("8233", "port of the Web UI the demo starts"),
    "TEMPORAL_ADDRESS": ("localhost:7233", "Temporal frontend host:port"),
    "TEMPORAL_NAMESPACE": ("default", "Temporal namespace"),
    "TEMPORAL_API_KEY": ("(unset)", "API key for Temporal Cloud; implies TLS"),
    "TEMPORAL_TLS": ("(unset)", "true to connect with TLS"),
    "TEMPORAL_TLS_CLIENT_CERT_PATH": ("(unset)", "mTLS client certificate"),
    "TEMPORAL_TLS_CLIENT_KEY_PATH": ("(unset)", "mTLS client key"),
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH": ("(unset)", "CA certificate of the server"),
    "TEMPORAL_TLS_SERVER_NAME": ("(unset)", "TLS server name override"),
    "TEMPORAL_PROFILE": ("default", "profile in the Temporal config file"),
    "TEMPORAL_CONFIG_FILE": ("(~/.config/temporalio/temporal.toml)", "Temporal config file"),
}


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = Path(".data")
    task_queue: str = DEFAULT_TASK_QUEUE
    policies_file: Path | None = None
    db_pool_size: int = 10
    smtp_url: str | None = None
    mail_from: str = "kyoso@localhost"
    log_format: str = "json"
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)
        pool = e.get("KYOSO_DB_POOL_SIZE", "10")
        if not pool.isdigit() or int(pool) < 1:
            raise ValueError(f"KYOSO_DB_POOL_SIZE must be a positive integer, got {pool!r}")
        fmt = e.get("KYOSO_LOG_FORMAT", "json")
        if fmt not in {"json", "console"}:
            raise ValueError(f"KYOSO_LOG_FORMAT must be json or console, got {fmt!r}")
        return cls(
            database_url=e.get("DATABASE_URL") or None,
            data_dir=Path(e.get("KYOSO_DATA_DIR") or ".data"),
            task_queue=e.get("KYOSO_TASK_QUEUE") or DEFAULT_TASK_QUEUE,
            policies_file=Path(p) if (p := e.get("KYOSO_POLICIES_FILE")) else None,
            db_pool_size=int(pool),
            smtp_url=e.get("SMTP_URL") or None,
            mail_from=e.get("KYOSO_MAIL_FROM") or "kyoso@localhost",
            log_format=fmt,
            log_level=(e.get("KYOSO_LOG_LEVEL") or "INFO").upper(),
        )
