"""The Docker image installs kyoso non-editable, so everything the worker and the CLI read at
run time must be in the wheel, not only in the source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.deploy.deployment import REPO

NEEDED = [
    "worker.py",
    "starter.py",
    "eventstore/migrations/0001_event_store.sql",
    "infra/data/localgovjp-utf8.csv",
    "infra/data/policies.yaml",
    "workflows/search_attributes.py",
    "cli/render.py",
]

# Left out of the copy the wheel is built from: the build must not write into the working
# tree (build/, *.egg-info) that others use while the tests run.
SKIP = shutil.ignore_patterns(".git", ".venv", ".data", "build", "dist", "*.egg-info", "tests",
                              "__pycache__", ".*_cache", ".hypothesis")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    src = tmp_path_factory.mktemp("src") / "kyoso"
    shutil.copytree(REPO, src, ignore=SKIP)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("kyoso-*.whl")
    return zipfile.ZipFile(built)


@pytest.mark.parametrize("path", NEEDED)
def test_the_wheel_carries(wheel: zipfile.ZipFile, path: str) -> None:
    assert path in wheel.namelist()


def test_the_wheel_carries_every_migration_and_data_file(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for folder in ("eventstore/migrations", "infra/data"):
        for file in (REPO / folder).iterdir():
            if file.is_file():
                assert f"{folder}/{file.name}" in names


def test_the_wheel_declares_both_commands(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "kyoso-worker = worker:main" in text
    assert "kyoso = starter:main" in text


def test_an_install_from_the_wheel_finds_its_files(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """Unpacked alone (no source tree on sys.path), the migrations, the registry and the
    policies load: what the worker and the CLI do at start."""
    wheel.extractall(tmp_path)
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
            "import infra, eventstore; "
            "from eventstore.migrate import discover; from infra.files import load_policies; "
            "from infra.registry import load_registry; "
            "print(infra.__file__, eventstore.__file__, len(discover()), "
            "len(load_registry().municipalities) > 1700, type(load_policies(None)).__name__)")
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    infra, eventstore, migrations, registry, policies = done.stdout.split()
    assert infra.startswith(str(tmp_path)) and eventstore.startswith(str(tmp_path))
    assert int(migrations) >= 4 and registry == "True" and policies == "ProgrammePolicies"
