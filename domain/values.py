"""Value types shared by every model: towns, lgcodes, safe text, identifiers, time."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, EmailStr, Field
from pydantic.networks import validate_email

JST = timezone(timedelta(hours=9), "JST")  # Japan has no daylight saving time.


class Town(StrEnum):
    """The founding towns, each running its own review committee."""

    YOKOZE = "yokoze"
    BANDAI = "bandai"

    @property
    def other(self) -> Town:
        return Town.BANDAI if self is Town.YOKOZE else Town.YOKOZE

    @property
    def lgcode(self) -> str:
        return FOUNDING_TOWN_LGCODES[self]

    @property
    def label(self) -> str:
        return {Town.YOKOZE: "Yokoze (横瀬町)", Town.BANDAI: "Bandai (磐梯町)"}[self]


FOUNDING_TOWN_LGCODES = {Town.YOKOZE: "113611", Town.BANDAI: "074071"}


class PreferredTown(StrEnum):
    YOKOZE = "yokoze"
    BANDAI = "bandai"
    EITHER = "either"

    @property
    def town(self) -> Town | None:
        return None if self is PreferredTown.EITHER else Town(self.value)


class Role(StrEnum):
    PROPOSER = "proposer"
    SECRETARIAT = "secretariat"
    REVIEWER = "reviewer"
    MEMBER = "member"
    SYSTEM = "system"


# -- lgcode ---------------------------------------------------------------------------------

def lgcode_check_digit(first_five: str) -> int:
    """Check digit of the national local-government code (総務省 地方公共団体コード).

    Weights 6,5,4,3,2 over the first five digits; the check digit is the last digit of
    11 minus the remainder modulo 11.
    """
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def validate_lgcode(value: str) -> str:
    if not re.fullmatch(r"[0-9]{6}", value):
        raise ValueError(f"lgcode must be 6 digits, got {value!r}")
    expected = lgcode_check_digit(value[:5])
    if int(value[5]) != expected:
        raise ValueError(f"lgcode {value} has a wrong check digit (expected {expected})")
    return value


Lgcode = Annotated[str, BeforeValidator(lambda v: str(v).strip()), AfterValidator(validate_lgcode)]


# -- text -----------------------------------------------------------------------------------

# Bidirectional overrides can disguise text in reviews and e-mails; refuse them with controls.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


# Every character the loop below refuses: Cc (U+0000-001F, U+007F-009F), Cs and Co (U+D800-F8FF,
# U+F0000-FFFFD, U+100000-10FFFD: fixed by Unicode's stability policy) and the bidi controls;
# multiline text may hold tabs and newlines. Text with none of them (nearly all text) skips the
# loop, which is kept to name the first offender.
_REFUSED = r"\x7f-\x9f\ud800-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd\u202a-\u202e\u2066-\u2069"
_SUSPECT_LINE = re.compile(rf"[\x00-\x1f{_REFUSED}]")
_SUSPECT_MULTILINE = re.compile(rf"[\x00-\x08\x0b-\x1f{_REFUSED}]")


def _check_text(value: str, *, multiline: bool) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if (_SUSPECT_MULTILINE if multiline else _SUSPECT_LINE).search(value) is None:
        return value
    allowed = {"\n", "\t"} if multiline else set()
    for ch in value:
        if ch in allowed:
            continue
        if ch in _BIDI or unicodedata.category(ch) in {"Cc", "Cs", "Co"}:
            raise ValueError(f"text contains a control character U+{ord(ch):04X}")
    return value


def _line(value: str) -> str:
    return _check_text(value, multiline=False)


def _multiline(value: str) -> str:
    return _check_text(value.replace("\r\n", "\n"), multiline=True)


ShortText = Annotated[str, AfterValidator(_line), Field(min_length=1, max_length=200)]
Name = Annotated[str, AfterValidator(_line), Field(min_length=1, max_length=100)]
Title = Annotated[str, AfterValidator(_line), Field(min_length=3, max_length=200)]
Comment = Annotated[str, AfterValidator(_multiline), Field(min_length=1, max_length=2000)]
LongText = Annotated[str, AfterValidator(_multiline), Field(min_length=20, max_length=4000)]
Paragraph = Annotated[str, AfterValidator(_multiline), Field(min_length=1, max_length=2000)]
Phone = Annotated[
    str, AfterValidator(_line), Field(pattern=r"^\+?[0-9][0-9\- ]{6,18}[0-9]$", max_length=20)
]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,62}$")]

# Proposal ids: "P-" and ten Crockford base-32 characters, short enough to type.
PROPOSAL_ID_PATTERN = r"^P-[0-9A-HJKMNP-TV-Z]{10}$"
ProposalId = Annotated[str, Field(pattern=PROPOSAL_ID_PATTERN)]
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def proposal_id_from_int(n: int) -> str:
    """Encode 50 bits (e.g. from a UUID) as a proposal id."""
    chars = []
    for _ in range(10):
        chars.append(_CROCKFORD[n & 31])
        n >>= 5
    return "P-" + "".join(reversed(chars))


def normalise_name(value: str) -> str:
    """Organisation name folded for comparison: width, case, spaces and legal suffixes."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    for suffix in ("株式会社", "合同会社", "有限会社", "一般社団法人", "(株)", "(同)"):
        folded = folded.replace(suffix, "")
    folded = re.sub(r"\b(inc|ltd|llc|co|corp|kk|gk|k\.k|g\.k)\b\.?", "", folded)
    return re.sub(r"[\s.,・()]+", "", folded)


# -- e-mail addresses --------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _normalised_email(value: str) -> str:
    """pydantic's EmailStr check (email-validator), remembered per address: the same committee
    addresses arrive with every proposal, every state read and every event parsed. A refused
    address raises each time, exactly as before (lru_cache keeps only results)."""
    return validate_email(value)[1]


if TYPE_CHECKING:
    Email = EmailStr
else:

    class Email(EmailStr):
        """EmailStr (same check, result, errors and JSON schema), validated once per address."""

        @classmethod
        def _validate(cls, input_value: str, /) -> str:
            return _normalised_email(input_value)


# -- time -----------------------------------------------------------------------------------

Instant = AwareDatetime


def start_of_day_jst(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), JST).astimezone(UTC)


def today_jst(now: datetime) -> date:
    return now.astimezone(JST).date()
