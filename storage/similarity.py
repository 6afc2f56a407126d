"""How alike two requests are: their texts (Chinese included) and, when both have one, places.

Chinese is written without spaces, so words cannot be split on them: a run of Han characters
becomes its overlapping character pairs (bigrams: 暖气不热 → 暖气 气不 不热), which catch the
same words without a dictionary. Traditional characters are folded to Simplified first
(OpenCC's t2s phrase table), so 暖氣不熱 and 暖气不热 are the same request. Latin and Cyrillic
runs become words, lightly stemmed, and digits stay tokens of their own (building 3 is not
building 5). A short stop list drops what every request says (greetings, "please", "problem"),
which would make unrelated requests look alike. Two token sets are compared by their cosine
(shared tokens over the geometric mean of their sizes), which forgives a long description
beside a short one more than Jaccard does.

THRESHOLD was chosen on the labelled pairs of tests/data/duplicates.toml (the test prints the
precision and recall it gives). Pure functions only: no database, no I/O.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator

import opencc

# Cosine of token sets at or above which two requests of one category count as "similar".
THRESHOLD = 0.22
EARTH_RADIUS_M = 6_371_008.8
TOKENS_KEPT = 2048  # texts whose token sets are kept (a few kB each)

# Han runs (the CJK blocks in use), and the word runs of every other script: letters and digits.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_TOKEN_RUN = re.compile(rf"[{_HAN}]+|[^\W{_HAN}_]+")
_NOT_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, spaces
_HAN_CHAR = re.compile(f"[{_HAN}]")
_DIGITS_OR_LETTERS = re.compile(r"\d+|[^\W\d_]+")

# Filler of requests in Chinese, as bigrams (and a few single characters left as a run of one).
_CHINESE_STOP_WORDS = """
    你好 您好 请问 希望 谢谢 感谢 我们 我家 已经 一直 现在 没有 问题 情况 反映
    投诉 麻烦 相关 部门 尽快 处理 解决 能否 是否 请求 要求 目前 这个 那个 什么
    怎么 为什么 由于 因为 所以 但是 而且 还是 的 了 是 在 有 我 也 都 就 和 与
    及 很 请 吗 呢 啊 吧"""
_LATIN_STOP_WORDS = """
    a an the and or but of to in on at for from by with as is are was were be been being it
    its this that these there here we our us i my me you your he she they them their has have
    had do does did not no so very please hello hi dear thank thanks would could can will
    should any some all since still again also just about problem issue
    и в во на с со по к у о об от до из за для не ни но а же ли что это как так уже ещё
    еще очень мы наш наша наши я мой моя мои вы ваш он она они их его её есть был была было были
    пожалуйста здравствуйте спасибо просим прошу проблема"""
_CHINESE_STOP = frozenset(_CHINESE_STOP_WORDS.split())
_LATIN_STOP = frozenset(_LATIN_STOP_WORDS.split())  # and Cyrillic
_SUFFIXES = ("ing", "ed", "es", "s")  # English only; Russian words are kept whole
# Traditional to Simplified: built once (loading the phrase tables takes milliseconds), and
# thread-safe for conversions.
_TO_SIMPLIFIED = opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """NFKC (fullwidth letters and digits become plain ones), Traditional Chinese folded to
    Simplified, lower case, punctuation dropped."""
    folded = _TO_SIMPLIFIED.convert(unicodedata.normalize("NFKC", text))
    return _NOT_WORD.sub(" ", folded.casefold())


def _stem(word: str) -> str:
    if not word.isascii() or len(word) <= 4:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _han_tokens(run: str) -> Iterable[str]:
    if len(run) == 1:
        if run not in _CHINESE_STOP:
            yield run
        return
    for i in range(len(run) - 1):
        pair = run[i : i + 2]
        if pair not in _CHINESE_STOP:
            yield pair


def token_stream(text: str) -> Iterator[str]:
    """Every token of a text in order, repeats included (the knowledge-base matcher counts
    them): Han bigrams, stemmed words, numbers."""
    for run in _TOKEN_RUN.findall(normalize(text)):
        if _HAN_CHAR.match(run):
            yield from _han_tokens(run)
            continue
        for part in _DIGITS_OR_LETTERS.findall(run):  # "3号" splits earlier; "b12" here
            if part not in _LATIN_STOP:
                yield _stem(part)


@functools.lru_cache(maxsize=TOKENS_KEPT)
def tokens(text: str) -> frozenset[str]:
    """The set of tokens of a request's text: Han bigrams, stemmed words, numbers.

    Kept for the last TOKENS_KEPT texts: every filing compares its text with the same open
    cases of its category, whose texts do not change."""
    return frozenset(token_stream(text))


def cosine(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared tokens over the geometric mean of the two set sizes (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine; plenty exact at a city's scale)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


Point = tuple[float, float] | None
Box = tuple[float, float, float, float]  # south, north, west, east, in degrees


def box_around(latitude: float, longitude: float, metres: float) -> Box:
    """Bounds of every place at most `metres` from this one (distance_m), a little wider.

    Within a great-circle angle θ, latitude moves at most θ, and longitude at most
    asin(sin θ / cos φ). Where that does not bound the longitude (a pole within reach, or the
    date line), the box spans every longitude.
    """
    angle = metres / EARTH_RADIUS_M * 1.001 + 1e-9  # a margin for rounding, never too narrow
    spread = math.degrees(min(angle, math.pi))
    south, north = latitude - spread, latitude + spread
    across = math.cos(math.radians(latitude))
    if angle >= math.pi / 2 or across <= math.sin(angle) or south <= -90 or north >= 90:
        return (south, north, -180.0, 180.0)
    reach = math.degrees(math.asin(math.sin(angle) / across))
    west, east = longitude - reach, longitude + reach
    if west < -180 or east > 180:
        return (south, north, -180.0, 180.0)
    return (south, north, west, east)


def places_apart(a: Point, b: Point) -> float | None:
    """The distance in metres when both places are known, else None."""
    if a is None or b is None:
        return None
    return distance_m(a[0], a[1], b[0], b[1])


def alike(
    a_tokens: frozenset[str], b_tokens: frozenset[str], a_at: Point, b_at: Point, limit_m: float
) -> tuple[float, float | None] | None:
    """(score, distance) when two requests of one category look like the same problem, else None.

    Similar texts, and — where both have a place — places at most `limit_m` apart.
    """
    score = cosine(a_tokens, b_tokens)
    if score < THRESHOLD:
        return None
    apart = places_apart(a_at, b_at)
    if apart is not None and apart > limit_m:
        return None
    return score, apart
