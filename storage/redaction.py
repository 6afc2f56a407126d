"""What looks like personal data in a text staff mean to publish: phone numbers, Chinese ID
numbers, licence plates, e-mail addresses and street addresses, each with where it is.

Pure functions, no database: the case page highlights the hits in context so staff can remove
them, and storage.publication refuses to publish while a phone or ID number is left (the other
kinds are warnings: "幸福小区" may be the subject of the question, not where someone lives).
The patterns aim to catch rather than to spare; a name cannot be found this way, which is why a
person reads every draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

CONTEXT = 24  # characters shown on each side of a hit


class DataKind(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    PLATE = "plate"
    EMAIL = "email"
    ADDRESS = "address"


# Kinds that refuse publication; the others are shown as warnings.
BLOCKING = frozenset({DataKind.ID_NUMBER, DataKind.PHONE})

_SEP = r"[\s\-.]?"  # one separator people put between groups of digits
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_HAN = r"\u4e00-\u9fff"
# In order: an earlier kind wins where two overlap (an ID number holds a phone-like run).
_PATTERNS: tuple[tuple[DataKind, re.Pattern[str]], ...] = (
    (DataKind.EMAIL, re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")),
    (DataKind.ID_NUMBER, re.compile(r"(?<![0-9])\d{6}[\s]?\d{8}[\s]?\d{3}[\dXx](?![0-9A-Za-z])")),
    (
        DataKind.PHONE,
        re.compile(
            "|".join(
                (
                    # Chinese mobiles: 13945172863, 139-4517-2863, +86 138 0451 9372
                    rf"(?:(?:\+|00)?86{_SEP})?(?<!\d)1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)",
                    # Chinese landlines: 010-12345678, (0451) 8765 4321, 0451 87654321
                    rf"(?<!\d)(?:\(0\d{{2,3}}\)\s?|0\d{{2,3}}[\s\-])\d{{3,4}}{_SEP}\d{{4}}(?!\d)",
                    # Russian: +7 912 345-67-89, 8 (912) 345 67 89
                    r"(?:\+7|(?<!\d)8)[\s\-]?\(?\d{3}\)?[\s\-]?\d{3}[\s\-]?\d{2}[\s\-]?\d{2}(?!\d)",
                    # Any other number in international form
                    r"\+\d{1,3}(?:[\s\-]?\d){7,12}(?!\d)",
                )
            )
        ),
    ),
    (
        DataKind.PLATE,
        re.compile(rf"[{_PROVINCES}][A-HJ-NP-Z][·•・\s]?[A-HJ-NP-Z0-9]{{5,6}}(?![A-Za-z0-9])"),
    ),
    (
        DataKind.ADDRESS,
        re.compile(
            "|".join(
                (
                    # …路12号, 中山大街3号院, 胡同5号
                    rf"[{_HAN}\w]{{1,12}}(?:路|街|大道|道|巷|胡同|弄)\s?\d+\s?号(?:院|楼)?",
                    # 3栋2单元502室, 5号楼1702室, 8楼301室
                    r"\d+\s?(?:号楼|栋|幢|座|楼)(?:\s?\d+\s?单元)?\s?\d+\s?室?",
                    # …小区, …花园, …公寓 (the name of an estate)
                    rf"[{_HAN}]{{1,10}}(?:小区|花园|公寓|家园|新村)",
                    # 88 Qiaolinwan Street, Flat 1702, Lane 5, Building 3
                    r"\b\d+[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){1,3}"
                    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Alley|Boulevard)\b\.?",
                    r"\b(?:Lane|Alley|Flat|Apartment|Apt|Room|Building|Block|No)\.?\s*\d+[A-Za-z]?\b",
                    # ул. Ленина, д. 5, кв. 12
                    r"(?:ул|пр|пер|просп|наб|ш)\.\s*[А-ЯЁ][\w\-]*(?:\s[\w\-]+)?,?\s*(?:д\.\s*\d+\w?)?",
                    r"\b(?:д|кв|корп|стр)\.\s*\d+\w?",
                )
            )
        ),
    ),
)


@dataclass(frozen=True)
class Hit:
    """One stretch of the text that looks like personal data."""

    kind: DataKind
    start: int
    end: int
    text: str

    @property
    def blocking(self) -> bool:
        return self.kind in BLOCKING


@dataclass(frozen=True)
class InContext:
    """A hit with the text around it, for a highlight: before + hit + after."""

    hit: Hit
    before: str
    after: str


def find_personal_data(text: str) -> list[Hit]:
    """Every stretch that looks like personal data, in the order of the text, none overlapping."""
    taken: list[Hit] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if end > start and not any(start < h.end and h.start < end for h in taken):
                taken.append(Hit(kind, start, end, match.group()))
    return sorted(taken, key=lambda hit: hit.start)


def blocking_hits(text: str) -> list[Hit]:
    """The hits that refuse publication: phone numbers and ID numbers."""
    return [hit for hit in find_personal_data(text) if hit.blocking]


def in_context(text: str, hit: Hit, width: int = CONTEXT) -> InContext:
    """The hit with up to `width` characters on each side, an ellipsis where the text goes on."""
    start, end = max(0, hit.start - width), min(len(text), hit.end + width)
    before = ("…" if start > 0 else "") + text[start : hit.start]
    after = text[hit.end : end] + ("…" if end < len(text) else "")
    return InContext(hit, _flat(before), _flat(after))


def _flat(text: str) -> str:
    return " ".join(text.splitlines())
