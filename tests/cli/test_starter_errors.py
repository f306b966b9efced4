"""The command line refuses bad input with one clear line and a non-zero exit, before
anything is sent or recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_TEMPORAL = "127.0.0.1:1"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "TEMPORAL_ADDRESS": UNREACHABLE_TEMPORAL, **(env or {})}
    return subprocess.run([sys.executable, str(ROOT / "starter.py"), *args], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=120)


def one_line_error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no message"
    assert "Traceback" not in result.stderr
    return lines[-1]


def test_every_command_has_help() -> None:
    top = run("--help")
    assert top.returncode == 0
    commands = ["submit", "vote", "revise", "withdraw", "report", "assign", "refer", "extend",
                "plan", "evaluate", "join", "decline", "deployed", "status", "list",
                "notifications", "stats", "intake", "network", "replay", "migrate"]
    for command in commands:
        assert command in top.stdout
        result = run(command, "--help")
        assert result.returncode == 0, command
        assert "usage: starter.py " + command in result.stdout


def test_a_malformed_proposal_id_is_a_usage_error() -> None:
    line = one_line_error(run("status", "P-123"), code=2)
    assert "'P-123' is not a proposal id" in line


def test_a_missing_proposal_file(tmp_path: Path) -> None:
    line = one_line_error(run("submit", str(tmp_path / "nope.yaml")))
    assert "cannot read" in line and "nope.yaml" in line


def test_a_proposal_file_that_is_not_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: [unclosed\n", encoding="utf-8")
    assert "is not valid YAML" in one_line_error(run("submit", str(bad)))


def test_an_invalid_proposal_names_the_field(tmp_path: Path) -> None:
    text = (ROOT / "examples/proposals/yokoze-ondemand-bus.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("hanako.yamada@satoyama-mobility.example.com", "not-an-email"),
                   encoding="utf-8")
    line = one_line_error(run("submit", str(bad)))
    assert "is not a valid proposal" in line and "proposer.contact.email" in line


@pytest.mark.parametrize(("args", "expected"), [
    (["vote", "P-0000000001", "--reviewer", "yokoze-tanaka", "--approve", "--comment", " "],
     "invalid input: comment"),
    (["vote", "P-0000000001", "--reviewer", "not a valid id!", "--approve", "--comment", "ok"],
     "invalid input: id"),
    (["plan", "P-0000000001", "--start", "2027-03-01", "--end", "2027-02-01", "--kpi", "a=b"],
     "the pilot must end after it starts"),
    (["plan", "P-0000000001", "--start", "2027-03-01", "--end", "2027-04-01"],
     "invalid input: kpis"),
    (["evaluate", "P-0000000001", "--outcome", "extend", "--comment", "more"],
     "extending a pilot needs a new end date"),
])
def test_bad_action_input_is_refused_before_anything_is_sent(args: list[str], expected: str
                                                             ) -> None:
    assert expected in one_line_error(run(*args))


def test_a_bad_lgcode_is_a_usage_error() -> None:
    line = one_line_error(run("join", "P-0000000001", "--lgcode", "113612"), code=2)
    assert "lgcode 113612 has a wrong check digit (expected 1)" in line


def test_a_bad_date_is_a_usage_error() -> None:
    line = one_line_error(run("extend", "P-0000000001", "--deadline", "review",
                              "--until", "next friday"), code=2)
    assert "'next friday' is not a date" in line


def test_an_unreachable_temporal_is_one_line() -> None:
    line = one_line_error(run("vote", "P-0000000001", "--reviewer", "yokoze-tanaka",
                              "--approve", "--comment", "ok"))
    assert f"Temporal is not reachable at {UNREACHABLE_TEMPORAL}" in line


def test_an_unreachable_database_is_one_line() -> None:
    line = one_line_error(run("list", env={"DATABASE_URL": "postgresql://kyoso@127.0.0.1:1/kyoso"}))
    assert "PostgreSQL is not reachable" in line and "kyoso" in line


def test_a_missing_database_is_one_line(db_url: str) -> None:
    from infra.database import with_database

    line = one_line_error(run("list", env={"DATABASE_URL": with_database(db_url, "no_such_db")}))
    assert "database 'no_such_db'" in line and "does not exist" in line


def test_an_unknown_proposal_is_one_line(db_url: str) -> None:
    line = one_line_error(run("status", "P-0000000001", env={"DATABASE_URL": db_url}))
    assert line.endswith("unknown proposal P-0000000001")


def test_settings_are_checked(db_url: str) -> None:
    line = one_line_error(run("list", env={"DATABASE_URL": db_url, "KYOSO_DB_POOL_SIZE": "many"}),
                          code=2)
    assert "KYOSO_DB_POOL_SIZE must be a positive integer" in line
