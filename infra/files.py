"""Reading the files people give kyoso: proposals, revisions, policies (YAML or JSON)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from domain.policy import ProgrammePolicies

M = TypeVar("M", bound=BaseModel)


class InputFileError(ValueError):
    """A file that cannot be read or does not hold what it should: one line for a person."""


def read_data(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputFileError(f"cannot read {path}: {err.strerror or err}") from err
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise InputFileError(f"{path} is not valid {kind}: {str(err).splitlines()[0]}") from err


def describe_validation(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {err.error_count() - 1} more problem(s))" if err.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def load_model(model: type[M], path: Path) -> M:
    data = read_data(path)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise InputFileError(f"{path} is not a valid {model.__name__.lower()}: "
                             f"{describe_validation(err)}") from err


def load_policies(path: Path | None) -> ProgrammePolicies:
    if path is None:
        shipped = resources.files("infra").joinpath("data/policies.yaml")
        with resources.as_file(shipped) as p:
            return load_model(ProgrammePolicies, p)
    return load_model(ProgrammePolicies, path)
