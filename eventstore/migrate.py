"""Versioned schema migrations: applied in order, once, under an advisory lock.

Safe to run twice or from two processes at once: the second waits for the lock, then finds
nothing left to do. A migration changed after it was applied is refused (its checksum differs).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from infra.database import DatabaseUnavailable

# Arbitrary constant naming the migration lock ("kyoso" in ASCII).
MIGRATION_LOCK = 0x6B796F736F


class MigrationError(RuntimeError):
    pass


class MigrationPermissionError(MigrationError, DatabaseUnavailable):
    """The user may connect but lacks a privilege the migrations need: one line naming it."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover() -> list[Migration]:
    found = []
    for entry in resources.files("eventstore.migrations").iterdir():
        m = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if m:
            found.append(Migration(int(m[1]), m[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migrations must be numbered 0001, 0002, … without gaps: {versions}")
    return found


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply every pending migration; return the names applied now."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   checksum   text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        applied = {r["version"]: r for r in rows}
        done = []
        for mig in discover():
            row = applied.get(mig.version)
            if row is not None:
                if row["checksum"] != mig.checksum:
                    raise MigrationError(
                        f"migration {mig.version:04d}_{mig.name} changed after it was applied; "
                        "add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(mig.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    mig.version, mig.name, mig.checksum,
                )
            done.append(f"{mig.version:04d}_{mig.name}")
        return done
    except asyncpg.InsufficientPrivilegeError as err:
        user, db = await conn.fetchrow("SELECT current_user, current_database()")
        raise MigrationPermissionError(
            f"PostgreSQL: user {user!r} lacks a permission on database {db!r} that the migrations "
            f"need ({str(err).splitlines()[0]}); grant it (on a new database: GRANT CREATE ON "
            f"SCHEMA public TO {user}) or use the user that owns the database") from err
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def migrate_url(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()
