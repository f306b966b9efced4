"""The front door stays true: the README's commands, configuration table and CI entry point."""

from __future__ import annotations

import re
from pathlib import Path

from infra.settings import VARIABLES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    run = (ROOT / ".ci/run").read_text(encoding="utf-8")
    commands = [line.strip() for line in run.splitlines()
                if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))]
    assert commands == ["exec scripts/test"]
    assert re.search(r"^scripts/test\s+#", README, re.MULTILINE)
    assert re.search(r"^scripts/demo\s+#", README, re.MULTILINE)


def test_the_configuration_table_lists_every_variable_with_its_default() -> None:
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", README, re.MULTILINE))
    assert set(rows) == set(VARIABLES)
    for name, (default, _) in VARIABLES.items():
        assert rows[name].strip() == default, name


def test_documented_files_exist() -> None:
    for link in re.findall(r"\]\(((?:docs|infra)/[^)#]+)\)", README):
        assert (ROOT / link).exists(), link
