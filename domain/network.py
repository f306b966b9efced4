"""The wide-area network (広域ネットワーク): the founding towns and member municipalities."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from domain.proposal import Model
from domain.values import FOUNDING_TOWN_LGCODES, Email, Lgcode, ShortText, Town


class Municipality(Model):
    lgcode: Lgcode
    name: ShortText
    prefecture: ShortText
    kana: str | None = None
    contact_email: Email | None = None

    @property
    def label(self) -> str:
        return f"{self.prefecture}{self.name}"


def parse_localgov_rows(rows: Iterable[Mapping[str, str]]) -> list[Municipality]:
    """Municipalities from code4fukui/localgovjp rows (CC0).

    Rows whose city contains a space are wards of designated cities (札幌市 中央区): they are
    not municipalities of their own and are left out, giving the 1,741 of Japan.
    """
    found = []
    for row in rows:
        city = row["city"].strip()
        if " " in city:
            continue
        found.append(
            Municipality(
                lgcode=row["lgcode"], name=city, prefecture=row["pref"], kana=row.get("citykana")
            )
        )
    return found


class Network(Model):
    """Every known municipality, and which of them belong to the network."""

    municipalities: dict[str, Municipality]
    members: frozenset[str]

    @classmethod
    def founding(cls, municipalities: Iterable[Municipality]) -> Network:
        known = {m.lgcode: m for m in municipalities}
        return cls(municipalities=known, members=frozenset(FOUNDING_TOWN_LGCODES.values()))

    def with_members(self, lgcodes: Iterable[str]) -> Network:
        codes = frozenset(lgcodes)  # read once: `lgcodes` may be a generator
        unknown = sorted(codes - self.municipalities.keys())
        if unknown:
            raise ValueError(f"unknown municipalities: {', '.join(unknown[:5])}")
        return self.model_copy(update={"members": self.members | codes})

    def rollout_targets(self, host: Town) -> list[Municipality]:
        """Members offered a proven pilot: everyone in the network but the hosting town."""
        return [
            self.municipalities[c] for c in sorted(self.members) if c != host.lgcode
        ]
