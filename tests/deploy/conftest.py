from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.deployment import load_compose, resolve


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml as written."""
    return load_compose()


@pytest.fixture(scope="session")
def resolved(compose: dict[str, Any]) -> dict[str, Any]:
    """docker-compose.yml interpolated with no variables set: every default applied."""
    data = resolve(compose, {})
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="session")
def services(resolved: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resolved["services"]
    assert isinstance(found, dict)
    return found
