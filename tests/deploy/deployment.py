"""Reading the deployment files the way Docker would, without a Docker engine: the compose file
with its ${VAR:-default} interpolation, the Dockerfile's instructions, .dockerignore."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
COMPOSE_SCHEMA = REPO / "schemas" / "compose-spec.json"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

# temporalio's SearchAttributeIndexedValueType name -> the `--type` of the temporal CLI
CLI_TYPES = {"KEYWORD": "Keyword", "INT": "Int", "DATETIME": "Datetime", "TEXT": "Text",
             "BOOL": "Bool", "DOUBLE": "Double", "KEYWORD_LIST": "KeywordList"}

_DOLLAR = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.S)


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def validate_compose(path: Path) -> None:
    """Raise jsonschema.ValidationError unless `path` follows the Compose Specification."""
    validate_compose_data(load_compose(path))


def validate_compose_data(data: Mapping[str, Any]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(data)


def interpolations(text: str) -> list[str]:
    """Every ${...} or $NAME that Compose would substitute (not the $$ escapes)."""
    return [m[0] for m in _DOLLAR.finditer(text) if not m["escaped"]]


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's substitution: $$ -> $, ${NAME}, ${NAME:-default}, ${NAME-default}, $NAME."""

    def sub(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        if m["named"]:
            return env.get(m["named"], "")
        braced = _BRACED.fullmatch(m["braced"])
        assert braced is not None, f"cannot read {m[0]!r}"
        value = env.get(braced["name"])
        op, arg = braced["op"], braced["arg"] or ""
        if op == ":-":
            return value if value else arg
        if op == "-":
            return arg if value is None else value
        assert op is None, f"{m[0]!r}: only ${{VAR}}, ${{VAR:-default}} and ${{VAR-default}} here"
        return value or ""

    return _DOLLAR.sub(sub, text)


def resolve(node: Any, env: Mapping[str, str]) -> Any:
    """The compose data with every string interpolated, as `docker compose config` shows it."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    return node


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, from either the list or the mapping form."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = [item.split("=", 1) for item in env]
        return {name: value for name, value in pairs}
    return {name: "" if value is None else str(value) for name, value in env.items()}


def script(service: Mapping[str, Any]) -> str:
    """The shell script a one-shot service runs with `entrypoint: [/bin/sh, -ec]`."""
    entrypoint, command = service.get("entrypoint"), service.get("command")
    assert entrypoint == ["/bin/sh", "-ec"], entrypoint
    assert isinstance(command, list) and len(command) == 1, command
    return str(command[0])


# -- Dockerfile ------------------------------------------------------------------------------

def dockerfile_stages(text: str) -> list[list[tuple[str, str]]]:
    """The instructions (KEYWORD, arguments) of each build stage, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    stages: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, args.strip()))
    return stages


# -- .dockerignore ---------------------------------------------------------------------------

def _pattern(glob: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[":
            end = glob.index("]", i)
            out.append(glob[i:end + 1])
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))


def dockerignore_excludes(ignore_text: str, path: str) -> bool:
    """Whether Docker leaves `path` out of the build context: the last pattern that matches
    the path or one of its parent folders decides, `!` patterns re-including."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for raw in ignore_text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rx = _pattern(line.lstrip("!").strip("/"))
        if any(rx.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded
