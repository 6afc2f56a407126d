"""Rising topics: the words of this week's requests that grew against the weeks before.

Chinese is not written with spaces, so Chinese runs are cut into every 2-, 3- and 4-character
piece (a request about 噪音扰民 yields 噪音, 噪音扰民, 扰民, ...); other scripts into words of
three letters or more, without a short stop list. A term counts once per request (document
frequency). It is rising when this week's count is at least MIN_COUNT and more than twice the
mean of the previous weeks (plus one); rising terms are ranked by (count - mean) / sqrt(mean + 1),
the longer term first on a tie, and a term whose requests are mostly those of a term already
chosen is left out, so one cluster of requests gives one topic (噪音扰民, not also 噪音扰).
A chosen Chinese piece is then grown, a character at a time on either side, while every one of
its requests still holds the longer piece: 享单车乱 becomes 共享单车乱停放 when that is the
phrase the requests share.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MIN_COUNT = 3
MAX_TOPIC = 8  # characters of a Chinese topic once grown into its phrase
MAX_CHARS = 400  # the start of a request says what it is about; the rest costs time
OVERLAP = 0.8

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W\d_]{3,}")
# Particles and pronouns: a piece that starts or ends with one is no topic.
_CJK_EDGES = frozenset("的了吗呢吧啊是在和与及也都就还很我你他她它们这那有没不请个把被给从对")
_CJK_STOP = frozenset(
    {
        "已经",
        "什么",
        "现在",
        "问题",
        "情况",
        "反映",
        "投诉",
        "希望",
        "要求",
        "谢谢",
        "麻烦",
        "解决",
        "处理",
        "相关",
        "部门",
        "一下",
        "一直",
        "今天",
        "昨天",
        "每天",
        "时候",
        "可以",
        "为什么",
        "怎么",
        "如何",
        "能否",
        "是否",
        "严重",
        "影响",
        "附近",
        "没人",
        "好几",
    }
)
_STOP_WORDS = frozenset(
    """
the and for are but not you all any can had her was one our out has his how its may new now
old see two way who did get got let put say she too use been from have here into just like
more most much must only over said same some such than that them then they this very want
were what when will with your also there their these those which would could should about
after again being below between both each few further once other own under until while why
where because before during above against itself myself yourself please thank thanks help
still since every days day week weeks today yesterday morning evening night hours months
year years time times problem problems issue issues nothing anything something someone
request requests complaint report city
это как что для все уже так его она они был была были нас вас мне нет или при где когда
очень просим прошу помогите пожалуйста
""".split()  # noqa: SIM905 - a word list reads better as text
)


def terms(text: str) -> set[str]:
    """The distinct terms of one request."""
    text = text[:MAX_CHARS].lower()
    found: set[str] = set()
    for run in _CJK.findall(text):
        for size in (2, 3, 4):
            for i in range(len(run) - size + 1):
                piece = run[i : i + size]
                if piece[0] in _CJK_EDGES or piece[-1] in _CJK_EDGES or piece in _CJK_STOP:
                    continue
                found.add(piece)
    for word in _WORD.findall(_CJK.sub(" ", text)):
        if word not in _STOP_WORDS:
            found.add(word)
    return found


@dataclass(frozen=True)
class Topic:
    term: str
    count: int  # requests of this week with the term
    baseline: float  # mean count per previous week


def _documents(texts: Iterable[tuple[int, str]]) -> dict[str, set[int]]:
    docs: dict[str, set[int]] = {}
    for case_id, text in texts:
        for term in terms(text):
            docs.setdefault(term, set()).add(case_id)
    return docs


def rising_topics(
    current: Sequence[tuple[int, str]],
    previous_weeks: Sequence[Sequence[str]],
    *,
    limit: int = 5,
    min_count: int = MIN_COUNT,
) -> list[Topic]:
    """This week's rising topics; `current` is (case id, text), `previous_weeks` the texts of
    each earlier week (the baseline is their mean; no earlier week means a baseline of 0)."""
    docs = _documents(current)
    texts = {case_id: text[:MAX_CHARS].lower() for case_id, text in current}
    before: Counter[str] = Counter()
    for week in previous_weeks:
        for text in week:
            before.update(terms(text) & docs.keys())
    weeks = max(1, len(previous_weeks))
    scored = []
    for term, ids in docs.items():
        count, mean = len(ids), before[term] / weeks
        if count >= min_count and count > 2 * mean + 1:
            scored.append(((count - mean) / math.sqrt(mean + 1), term, count, mean))
    scored.sort(key=lambda s: (-s[0], -len(s[1]), s[1]))
    chosen: list[Topic] = []
    covered: list[set[int]] = []
    for _, term, count, mean in scored:
        ids = docs[term]
        if any(len(ids & other) >= OVERLAP * len(ids) for other in covered):
            continue
        phrase = _grown(term, [texts[i] for i in ids]) if _CJK.fullmatch(term) else term
        chosen.append(Topic(phrase, count, round(mean, 2)))
        covered.append(ids)
        if len(chosen) == limit:
            break
    return chosen


def _grown(piece: str, texts: Sequence[str]) -> str:
    """The longest run around `piece` (up to MAX_TOPIC characters) that every text holds."""
    while len(piece) < MAX_TOPIC:
        for side in (0, 1):
            neighbours = set()
            for text in texts:
                at = text.find(piece)
                spot = at - 1 if side == 0 else at + len(piece)
                neighbours.add(text[spot] if 0 <= spot < len(text) and at >= 0 else "")
            (char,) = neighbours if len(neighbours) == 1 else ("",)
            if char and _CJK.fullmatch(char) and char not in _CJK_EDGES:
                piece = char + piece if side == 0 else piece + char
                break
        else:
            return piece
    return piece
