"""The Dockerfile and .dockerignore, read as Docker would read them (no engine runs here)."""

from __future__ import annotations

import re
import shlex
import tomllib

import pytest

from tests.deploy.deployment import (
    DOCKERFILE,
    DOCKERIGNORE,
    REPO,
    dockerfile_stages,
    dockerignore_excludes,
)

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
STAGES = dockerfile_stages(DOCKERFILE.read_text(encoding="utf-8"))
BUILD, FINAL = STAGES[0], STAGES[-1]
IGNORE = DOCKERIGNORE.read_text(encoding="utf-8")


def args(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [a for k, a in stage if k == keyword]


def copied_sources(stage: list[tuple[str, str]]) -> set[str]:
    sources: set[str] = set()
    for line in args(stage, "COPY"):
        words = [w for w in shlex.split(line) if not w.startswith("--")]
        sources.update(w.rstrip("/") for w in words[:-1])
    return sources


def project_sources() -> set[str]:
    """The top-level packages and modules pyproject.toml installs that exist in the tree."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    found = {f"{m}.py" for m in setuptools["py-modules"]}
    for pattern in setuptools["packages"]["find"]["include"]:
        name = pattern.rstrip("*").rstrip(".")
        if (REPO / name / "__init__.py").exists():
            found.add(name)
    return found


def test_both_stages_are_python_311_slim() -> None:
    arg = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(encoding="utf-8"), re.M)
    assert arg and arg[1].startswith("python:3.11-slim")
    assert len(STAGES) == 2
    for stage in STAGES:
        assert stage[0][1].split()[0] == "${PYTHON_IMAGE}"


def test_installs_the_project_from_pyproject_non_editable() -> None:
    assert "pyproject.toml" in copied_sources(BUILD)
    runs = " ".join(args(BUILD, "RUN"))
    assert re.search(r"pip install \.(\s|$)", runs), "the project is installed with `pip install .`"
    assert "install -e" not in runs and "--editable" not in runs
    assert "tomllib.load(open('pyproject.toml'" in runs  # dependencies layer, from the same file
    assert "/opt/kyoso" in " ".join(args(FINAL, "COPY"))


def test_copies_every_package_pyproject_installs() -> None:
    wanted = project_sources()
    assert {"worker.py", "starter.py", "domain", "eventstore", "infra", "workflows"} <= wanted
    missing = wanted - copied_sources(BUILD)
    assert not missing, f"the Dockerfile does not COPY {sorted(missing)}"


def test_runs_as_a_non_root_user() -> None:
    users = args(FINAL, "USER")
    assert users, "the final stage sets no USER: it would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert any("useradd" in run and f"--uid {user}" in run for run in args(FINAL, "RUN"))
    # nothing after USER switches back
    keywords = [k for k, _ in FINAL]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_starts_the_worker() -> None:
    (cmd,) = args(FINAL, "CMD")
    assert cmd == '["kyoso-worker"]'
    assert not args(FINAL, "ENTRYPOINT")  # so `docker run kyoso kyoso list` runs the CLI
    assert PYPROJECT["project"]["scripts"]["kyoso-worker"] == "worker:main"
    assert PYPROJECT["project"]["scripts"]["kyoso"] == "starter:main"


@pytest.mark.parametrize("path", [
    "pyproject.toml", "worker.py", "starter.py", "domain/__init__.py",
    "eventstore/migrations/0001_event_store.sql", "infra/data/policies.yaml",
    "infra/data/localgovjp-utf8.csv", "workflows/search_attributes.py", "cli/render.py",
])
def test_dockerignore_lets_the_code_in(path: str) -> None:
    assert (REPO / path).exists()
    assert not dockerignore_excludes(IGNORE, path)


@pytest.mark.parametrize("path", [
    ".venv/bin/python", ".git/HEAD", ".data/postgres/PG_VERSION", ".env", "tests/conftest.py",
    "infra/__pycache__/settings.cpython-311.pyc", "build/lib/worker.py", "kyoso.egg-info/PKG-INFO",
    ".mypy_cache/x", "docker-compose.yml",
])
def test_dockerignore_keeps_the_rest_out(path: str) -> None:
    assert dockerignore_excludes(IGNORE, path)


def test_every_copied_source_survives_dockerignore() -> None:
    for source in copied_sources(BUILD) - {"README*", "/opt/kyoso"}:
        assert not dockerignore_excludes(IGNORE, source), source
