"""Tracking numbers: short, random, unambiguous, with a check symbol.

A number is 11 random symbols and one check symbol from a 31-symbol alphabet that leaves out the
look-alikes 0/O and 1/I/L. Symbol values v1..v12 are weighted by their position (1..12) and the
check symbol makes the weighted sum divisible by 31. Because 31 is prime and every weight (and
every difference of two weights) is a non-zero number below 31, a single wrong symbol changes the
sum by w·d and two swapped neighbours change it by ±d (d: the difference of the two symbol
values, 0 < |d| < 31), and neither is ever a multiple of 31: both errors are always caught.

11 random symbols give 31**11 ≈ 2.5·10**16 numbers (about 54 bits): not guessable, and collisions
stay rare enough that the database's unique index can simply reject the odd one for a retry.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)  # 31, a prime
RANDOM_SYMBOLS = 11
LENGTH = RANDOM_SYMBOLS + 1
GROUP = 4

_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# The check symbol sits at position 12; dividing by its weight is multiplying by this inverse.
_CHECK_WEIGHT_INVERSE = pow(LENGTH, -1, BASE)
# What people type between groups: spaces of any kind, and every dash Unicode knows (hyphen,
# en dash, em dash, the fullwidth forms after NFKC ...). Underscores and dots too.
_SEPARATORS = re.compile(r"[\s_.\u00b7\u30fb]+")


class TrackingNumberMalformed(ValueError):
    """The text is not 12 symbols of the tracking-number alphabet."""


class TrackingNumberMistyped(ValueError):
    """The text has the right shape but its check symbol does not fit: a typing mistake."""


def _weighted_sum(values: list[int]) -> int:
    return sum(weight * value for weight, value in enumerate(values, start=1)) % BASE


def new_tracking_number() -> str:
    """A fresh random number in canonical form: 12 symbols, no dashes."""
    # One draw of ~54 bits, spelled out in base 31, is uniform and faster than 11 choices; the
    # weighted sum is kept on the way, so the check symbol costs no second pass.
    n = secrets.randbelow(BASE**RANDOM_SYMBOLS)
    symbols = []
    partial = 0
    for weight in range(1, LENGTH):
        n, value = divmod(n, BASE)
        symbols.append(ALPHABET[value])
        partial += weight * value
    symbols.append(ALPHABET[(-partial * _CHECK_WEIGHT_INVERSE) % BASE])
    return "".join(symbols)


def format_tracking_number(canonical: str) -> str:
    """Group a canonical number for people: `ABCD-EFGH-JKMN`."""
    return "-".join(canonical[i : i + GROUP] for i in range(0, len(canonical), GROUP))


def _compact(text: str) -> str:
    """Upper-case symbols with separators removed; fullwidth forms folded by NFKC."""
    folded = unicodedata.normalize("NFKC", text).upper()
    kept = (ch for ch in folded if unicodedata.category(ch) != "Pd")
    return _SEPARATORS.sub("", "".join(kept))


def is_valid_tracking_number(canonical: str) -> bool:
    """True when a canonical (already normalized) number has a fitting check symbol."""
    return (
        len(canonical) == LENGTH
        and all(symbol in _VALUE for symbol in canonical)
        and _weighted_sum([_VALUE[symbol] for symbol in canonical]) == 0
    )


def parse_tracking_number(text: str) -> str:
    """The canonical number in what a person typed.

    Accepts any case, dashes, spaces and fullwidth forms (`ａｂｃｄ－…`). Letters outside the
    alphabet (O, I, L) and digits 0 and 1 are not guessed at: they make the text malformed.
    Raises TrackingNumberMalformed or TrackingNumberMistyped.
    """
    compact = _compact(text)
    if len(compact) != LENGTH:
        raise TrackingNumberMalformed(
            f"a tracking number has {LENGTH} symbols, got {len(compact)}"
        )
    strangers = sorted({symbol for symbol in compact if symbol not in _VALUE})
    if strangers:
        raise TrackingNumberMalformed(
            f"symbols not used in tracking numbers: {' '.join(strangers)}"
        )
    if not is_valid_tracking_number(compact):
        raise TrackingNumberMistyped("the check symbol does not fit: a symbol is mistyped")
    return compact


_GROUPED = re.compile(r"[0-9A-Z]{4}(?:[\s\-]+[0-9A-Z]{4}){2}")


def looks_like_tracking_number(text: str) -> bool:
    """Whether free text was most likely meant as a tracking number (right or mistyped).

    True for a valid number however it is written; for a `XXXX-XXXX-XXXX` shape of letters and
    digits; and for 10 to 14 letters and digits (ignoring separators) that contain a digit — a
    number with a symbol missing or doubled. A 12-letter phrase such as "water leaking" is not
    taken for a number (no digit, not grouped in fours), so a description is never mistaken.
    """
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    if not folded or len(folded) > 3 * LENGTH:
        return False
    with_ascii_dashes = "".join("-" if unicodedata.category(ch) == "Pd" else ch for ch in folded)
    if _GROUPED.fullmatch(with_ascii_dashes):
        return True
    compact = _compact(folded)
    if not (compact.isascii() and compact.isalnum()):
        return False
    if is_valid_tracking_number(compact):
        return True
    return LENGTH - 2 <= len(compact) <= LENGTH + 2 and any(ch.isdigit() for ch in compact)


def canonical_or_none(text: str) -> str | None:
    """The canonical number in `text`, or None when it is not a well-typed number."""
    try:
        return parse_tracking_number(text)
    except (TrackingNumberMalformed, TrackingNumberMistyped):
        return None
