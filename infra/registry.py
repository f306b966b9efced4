"""The municipality registry shipped with kyoso (code4fukui/localgovjp, CC0)."""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

from domain.network import Network, parse_localgov_rows


@functools.cache
def load_registry() -> Network:
    """Every municipality of Japan (1,741), the founding towns as members."""
    text = resources.files("infra").joinpath("data/localgovjp-utf8.csv").read_text(
        encoding="utf-8-sig")
    return Network.founding(parse_localgov_rows(csv.DictReader(io.StringIO(text))))
