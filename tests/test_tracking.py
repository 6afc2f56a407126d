"""Tracking numbers: uniqueness, error detection, and forgiving parsing."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.tracking import (
    ALPHABET,
    BASE,
    LENGTH,
    TrackingNumberMalformed,
    TrackingNumberMistyped,
    format_tracking_number,
    is_valid_tracking_number,
    looks_like_tracking_number,
    new_tracking_number,
    parse_tracking_number,
)

WEIGHTS = range(1, LENGTH + 1)


def test_alphabet_has_no_look_alikes_and_a_prime_size() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == BASE == 31
    assert not set("0O1IL") & set(ALPHABET)
    assert all(BASE % k for k in range(2, BASE))


def test_shape_of_a_new_number() -> None:
    number = new_tracking_number()
    assert len(number) == LENGTH
    assert set(number) <= set(ALPHABET)
    assert is_valid_tracking_number(number)
    shown = format_tracking_number(number)
    assert len(shown) == 14
    assert shown[4] == shown[9] == "-"


@pytest.mark.slow
def test_a_million_numbers_have_no_collision() -> None:
    # No time limit here: speed is the benchmark's business, and a loaded CI machine is slow.
    numbers = {new_tracking_number() for _ in range(1_000_000)}
    assert len(numbers) == 1_000_000


def test_the_weights_catch_every_single_error_and_adjacent_swap_by_construction() -> None:
    """The proof, exhaustively over the algebra rather than over samples.

    Substituting value a by b at position i changes the sum by w_i·(b−a); swapping distinct
    neighbours a, b at positions i, i+1 changes it by (w_i − w_{i+1})·(b−a). Either is caught
    unless it is ≡ 0 (mod 31). Here: every weight and every difference of neighbouring weights,
    times every possible symbol difference, is non-zero mod 31.
    """
    differences = range(1, BASE)  # b − a for distinct symbols, up to sign
    for weight in WEIGHTS:
        assert all((weight * d) % BASE for d in differences)
    for left, right in itertools.pairwise(WEIGHTS):
        assert all(((left - right) * d) % BASE for d in differences)


def test_every_substitution_and_adjacent_swap_is_caught_on_real_numbers() -> None:
    for _ in range(2_000):
        number = new_tracking_number()
        for position in range(LENGTH):
            for substitute in ALPHABET:
                if substitute == number[position]:
                    continue
                typo = number[:position] + substitute + number[position + 1 :]
                assert not is_valid_tracking_number(typo), (number, typo)
        for position in range(LENGTH - 1):
            a, b = number[position], number[position + 1]
            if a == b:
                continue
            swapped = number[:position] + b + a + number[position + 2 :]
            assert not is_valid_tracking_number(swapped), (number, swapped)


def test_parse_reports_a_typo_as_mistyped() -> None:
    number = new_tracking_number()
    wrong = ALPHABET[(ALPHABET.index(number[5]) + 1) % BASE]
    with pytest.raises(TrackingNumberMistyped):
        parse_tracking_number(number[:5] + wrong + number[6:])


@pytest.mark.parametrize(
    "spell",
    [
        str.lower,
        format_tracking_number,
        lambda n: format_tracking_number(n).lower(),
        lambda n: format_tracking_number(n).replace("-", " "),
        lambda n: "  " + " ".join(n) + "\n",
        lambda n: format_tracking_number(n).replace("-", "–"),  # en dash
        lambda n: format_tracking_number(n).replace("-", "—"),  # em dash, as IMEs produce
        # fullwidth letters, digits and dash, as typed with a Chinese input method
        lambda n: "".join(chr(ord(c) + 0xFEE0) for c in format_tracking_number(n).lower()),
        lambda n: format_tracking_number(n).replace("-", "\u3000"),  # ideographic space
    ],
)
def test_parse_accepts_what_people_type(spell: Callable[[str], str]) -> None:
    for _ in range(20):
        number = new_tracking_number()
        assert parse_tracking_number(spell(number)) == number


@pytest.mark.parametrize(
    "text",
    ["", "ABCD-EFGH", "ABCD-EFGH-JKMN-P", "0BCD-EFGH-JKMN", "IBCD-EFGH-JKMN", "ABCD-EFGH-JKM!"],
)
def test_parse_refuses_what_is_not_a_number(text: str) -> None:
    with pytest.raises(TrackingNumberMalformed):
        parse_tracking_number(text)


def test_look_alike_letters_are_malformed_not_guessed() -> None:
    number = new_tracking_number()
    with pytest.raises(TrackingNumberMalformed, match="O"):
        parse_tracking_number("O" + number[1:])


def _complete(body: str) -> str:
    """The body with the one check symbol that makes it valid."""
    (number,) = [body + c for c in ALPHABET if is_valid_tracking_number(body + c)]
    return number


# Every possible number, not only the ones the generator happened to draw.
NUMBERS = st.text(alphabet=ALPHABET, min_size=LENGTH - 1, max_size=LENGTH - 1).map(_complete)


@given(NUMBERS)
def test_parse_inverts_format(number: str) -> None:
    assert parse_tracking_number(format_tracking_number(number)) == number
    assert parse_tracking_number(format_tracking_number(number).lower()) == number


@given(st.text(alphabet=ALPHABET, min_size=LENGTH - 1, max_size=LENGTH - 1))
def test_every_body_has_exactly_one_check_symbol(body: str) -> None:
    assert len([c for c in ALPHABET if is_valid_tracking_number(body + c)]) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abcd-efgh-jkmn", True),  # the shape, even if mistyped
        ("ABCD EFGH JKMN", True),
        ("ABC2EFGH4KMN", True),  # compact with digits
        ("ABC2EFGH4KM", True),  # a symbol missing
        ("water leaking", False),
        ("No heating since Monday", False),
        ("暖气不热", False),
        ("hello", False),
        ("", False),
        ("/status", False),
    ],
)
def test_looks_like_tracking_number(text: str, expected: bool) -> None:
    assert looks_like_tracking_number(text) is expected


def test_every_valid_number_looks_like_one() -> None:
    for _ in range(1_000):
        number = new_tracking_number()
        assert looks_like_tracking_number(number)
        assert looks_like_tracking_number(format_tracking_number(number).lower())
