"""Connecting to Temporal with its standard environment configuration and our data converter.

TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE and
TEMPORAL_CONFIG_FILE are read by temporalio.envconfig, exactly as the Temporal CLI reads them,
so a worker configured for Temporal Cloud needs nothing kyoso-specific.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile

DEFAULT_ADDRESS = "localhost:7233"


class TemporalUnavailable(RuntimeError):
    pass


def connect_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for Client.connect, from the environment (or `env`)."""
    try:
        profile = ClientConfigProfile.load(override_env_vars=env)
        config: dict[str, Any] = dict(profile.to_client_connect_config())
    except (OSError, RuntimeError) as err:  # unknown profile, bad TOML, missing TLS file
        raise TemporalUnavailable(
            f"Temporal client settings cannot be used: {str(err).splitlines()[0]}; check "
            "TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE and TEMPORAL_TLS_*") from err
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.setdefault("namespace", "default")
    return config


async def connect(env: Mapping[str, str] | None = None, **overrides: Any) -> Client:
    config = {**connect_config(env), **overrides}
    try:
        return await Client.connect(**config, data_converter=pydantic_data_converter)
    except RuntimeError as err:
        raise TemporalUnavailable(
            f"Temporal is not reachable at {config['target_host']} "
            f"(namespace {config['namespace']}): {str(err).splitlines()[0]}; "
            "start it with `scripts/demo` or set TEMPORAL_ADDRESS") from err


async def register_search_attributes(client: Client) -> None:
    """Register kyoso's search attributes in the client's namespace (idempotent)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )
    from temporalio.service import RPCError, RPCStatusCode

    from workflows.search_attributes import ALL

    wanted = {k.name: IndexedValueType.ValueType(k.indexed_value_type.value) for k in ALL}
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace))
        wanted = {k: v for k, v in wanted.items() if k not in listed.custom_attributes}
    except RPCError as err:  # the time-skipping test server cannot list them
        if err.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
    if not wanted:
        return
    try:
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=client.namespace, search_attributes=wanted))
    except RPCError as err:
        if err.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
