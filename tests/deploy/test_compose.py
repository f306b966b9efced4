"""docker-compose.yml, checked without a Docker engine: against the Compose Specification's
JSON schema, and against what the code reads (settings, search attributes)."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from infra.settings import VARIABLES, Settings
from infra.temporal_client import connect_config
from tests.deploy.deployment import (
    CLI_TYPES,
    COMPOSE_FILE,
    environment,
    interpolations,
    resolve,
    script,
    validate_compose,
    validate_compose_data,
)
from workflows.search_attributes import ALL

# What the worker cannot run a deployment without.
WORKER_NEEDS = {"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "KYOSO_TASK_QUEUE",
                "KYOSO_LOG_FORMAT", "KYOSO_LOG_LEVEL", "KYOSO_DB_POOL_SIZE", "SMTP_URL",
                "KYOSO_MAIL_FROM"}


def one_shots(services: dict[str, dict[str, Any]]) -> set[str]:
    """Jobs that run to completion: the services others wait for to complete."""
    return {name for svc in services.values()
            for name, dep in (svc.get("depends_on") or {}).items()
            if dep.get("condition") == "service_completed_successfully"}


# -- the Compose Specification ---------------------------------------------------------------

def test_compose_file_follows_the_compose_specification() -> None:
    validate_compose(COMPOSE_FILE)


BREAKAGES = {
    "misspelt service key": ("    restart: unless-stopped\n",
                             "    restart: unless-stopped\n    enviroment: {}\n"),
    "unknown depends_on condition": ("condition: service_healthy", "condition: service_ready"),
    "healthcheck with an unknown key": ("      interval: 5s\n", "      intervall: 5s\n"),
    "volumes not a mapping": ("volumes:\n  temporal-postgresql-data:\n  app-postgresql-data:\n",
                              "volumes:\n  - temporal-postgresql-data\n  - app-postgresql-data\n"),
    "command not a string or list": ("entrypoint: [\"/bin/sh\", \"-ec\"]\n    command:\n",
                                     "entrypoint: [\"/bin/sh\", \"-ec\"]\n    command:\n      x:\n"),
    "unknown top-level key": ("services:\n", "service:\n  x: {}\nservices:\n"),
}


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_the_schema_check_rejects_a_broken_copy(tmp_path: Path, breakage: tuple[str, str]) -> None:
    old, new = breakage
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(jsonschema.ValidationError):
        validate_compose(broken)


def test_every_variable_has_a_default() -> None:
    """`docker compose up` works with no .env file: every ${VAR} carries a default."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    found = interpolations(text)
    assert found
    bare = [expr for expr in found if not re.fullmatch(r"\$\{[A-Za-z_]\w*:?-[^}]*\}", expr)]
    assert bare == [], f"give these a default (${{VAR:-default}}) or escape them as $$: {bare}"


def test_defaults_are_local_development_passwords_only(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for key, value in environment(svc).items():
            if re.search(r"PASSWORD|PWD", key):
                assert value.endswith("local-dev"), (name, key, value)


# -- the worker's environment ----------------------------------------------------------------

def test_worker_is_configured_by_exactly_the_variables_it_reads(
        compose: dict[str, Any]) -> None:
    env = environment(compose["services"]["worker"])
    missing = WORKER_NEEDS - env.keys()
    unknown = env.keys() - VARIABLES.keys()
    assert not missing, f"the worker service does not set {sorted(missing)}"
    assert not unknown, f"the worker service sets variables kyoso never reads: {sorted(unknown)}"
    assert VARIABLES.keys() >= WORKER_NEEDS


def test_worker_settings_point_at_the_services_of_this_file(
        services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["worker"])
    settings = Settings.from_env(env)
    assert settings.log_format == "json"
    assert settings.smtp_url is None  # optional: empty means notifications are only logged
    assert settings.task_queue == "kyoso"

    db = urllib.parse.urlsplit(env["DATABASE_URL"])
    app_db = environment(services["app-postgresql"])
    assert db.scheme == "postgresql"
    assert db.hostname == "app-postgresql" and db.port == 5432
    assert (db.username, db.password, db.path.lstrip("/")) == (
        app_db["POSTGRES_USER"], app_db["POSTGRES_PASSWORD"], app_db["POSTGRES_DB"])

    config = connect_config(env)
    assert config["target_host"] == "temporal:7233"
    assert "tls" not in config and "api_key" not in config
    namespace = config["namespace"]
    assert environment(services["temporal-setup"])["TEMPORAL_NAMESPACE"] == namespace
    assert environment(services["temporal-ui"])["TEMPORAL_DEFAULT_NAMESPACE"] == namespace


def test_overrides_reach_the_worker(compose: dict[str, Any]) -> None:
    env = environment(resolve(compose, {
        "APP_DB_PASSWORD": "s3cret", "TEMPORAL_NAMESPACE": "yokoze", "SMTP_URL": "smtp://mail:25",
        "KYOSO_TASK_QUEUE": "kyoso-prod"})["services"]["worker"])
    settings = Settings.from_env(env)
    assert urllib.parse.urlsplit(env["DATABASE_URL"]).password == "s3cret"
    assert settings.smtp_url == "smtp://mail:25" and settings.task_queue == "kyoso-prod"
    assert connect_config(env)["namespace"] == "yokoze"


# -- Temporal --------------------------------------------------------------------------------

def registered_search_attributes(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    lines = re.findall(r"temporal operator search-attribute create (.*)",
                       script(services["temporal-setup"]))
    found: dict[str, str] = {}
    for line in lines:
        name = re.search(r"--name (\S+)", line)
        kind = re.search(r"--type (\S+)", line)
        assert name and kind, line
        found[name[1]] = kind[1]
    return found


def test_every_search_attribute_is_registered_with_its_type(
        services: dict[str, dict[str, Any]]) -> None:
    wanted = {key.name: CLI_TYPES[key.indexed_value_type.name] for key in ALL}
    assert registered_search_attributes(services) == wanted


def test_temporal_server_and_schema_tools_share_one_postgresql(
        services: dict[str, dict[str, Any]]) -> None:
    db = environment(services["temporal-postgresql"])
    for name in ("temporal-schema", "temporal"):
        env = environment(services[name])
        assert env["DB"] == "postgres12" and env["POSTGRES_SEEDS"] == "temporal-postgresql"
        assert (env["POSTGRES_USER"], env["POSTGRES_PWD"]) == (
            db["POSTGRES_USER"], db["POSTGRES_PASSWORD"])
    assert environment(services["temporal-schema"])["SQL_PASSWORD"] == db["POSTGRES_PASSWORD"]
    schema = script(services["temporal-schema"])
    for step in ("create", "setup-schema -v 0.0", "update-schema"):
        assert step in schema
    assert "temporal_visibility" in schema


def test_official_images_with_pinned_tags(services: dict[str, dict[str, Any]]) -> None:
    images = {name: svc["image"] for name, svc in services.items() if "build" not in svc}
    for name, image in images.items():
        repo, _, tag = image.partition(":")
        assert repo in {"postgres", "temporalio/server", "temporalio/admin-tools",
                        "temporalio/ui"}, (name, image)
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?", tag), f"{name}: pin {image} to a version"
    assert "temporalio/auto-setup" not in COMPOSE_FILE.read_text(encoding="utf-8")
    server = images["temporal"].partition(":")[2]
    assert images["temporal-schema"].endswith(":" + server)
    assert images["temporal-setup"].endswith(":" + server)


def test_dynamic_config_is_mounted_where_the_server_reads_it(
        services: dict[str, dict[str, Any]], resolved: dict[str, Any]) -> None:
    temporal = services["temporal"]
    path = environment(temporal)["DYNAMIC_CONFIG_FILE_PATH"]
    (mount,) = temporal["configs"]
    assert mount["target"] == path
    assert "limit.maxIDLength" in resolved["configs"][mount["source"]]["content"]


# -- health, order of start, storage ---------------------------------------------------------

def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    jobs = one_shots(services)
    assert jobs == {"temporal-schema", "temporal-setup"}
    for name, svc in services.items():
        check = svc.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if name in jobs:
            # Health means nothing for a job that exits; others wait for it to complete.
            assert check == {"disable": True} and svc["restart"] == "no", name
        else:
            assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
            assert {"interval", "timeout", "retries"} <= check.keys(), name
            assert svc["restart"] == "unless-stopped", name


def test_depends_on_waits_for_health_or_completion(services: dict[str, dict[str, Any]]) -> None:
    jobs = one_shots(services)
    for name, svc in services.items():
        for dep, how in (svc.get("depends_on") or {}).items():
            assert dep in services, (name, dep)
            wanted = "service_completed_successfully" if dep in jobs else "service_healthy"
            assert how == {"condition": wanted}, (name, dep, how)
    needs = {name: set(svc.get("depends_on") or {}) for name, svc in services.items()}
    assert needs["worker"] == {"app-postgresql", "temporal", "temporal-setup"}
    assert needs["temporal"] >= {"temporal-schema"}
    assert needs["temporal-schema"] == {"temporal-postgresql"}
    assert needs["temporal-setup"] == {"temporal"}


def test_databases_keep_their_data_in_named_volumes(resolved: dict[str, Any]) -> None:
    declared = set(resolved["volumes"])
    used = set()
    for name in ("temporal-postgresql", "app-postgresql"):
        (mount,) = resolved["services"][name]["volumes"]
        source, target = mount.split(":")
        assert target == "/var/lib/postgresql/data", name
        used.add(source)
    assert used == declared and len(used) == 2


def test_worker_is_built_from_the_dockerfile_and_stops_gracefully(
        services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert worker["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert worker["stop_grace_period"] == "45s"  # worker.py's graceful shutdown is 30 s
    assert worker["read_only"] is True and worker["cap_drop"] == ["ALL"]


def test_the_interpolated_file_follows_the_specification_too(resolved: dict[str, Any]) -> None:
    """What Docker sees after substituting the defaults is still valid."""
    validate_compose_data(resolved)
    assert resolved["services"]["temporal-ui"]["ports"] == ["127.0.0.1:8080:8080"]
    assert resolved["services"]["temporal"]["ports"] == ["127.0.0.1:7233:7233"]
