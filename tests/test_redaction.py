"""What the publish form highlights as personal data, and which kinds refuse publication."""

from __future__ import annotations

import pytest

from storage.redaction import DataKind, blocking_hits, find_personal_data, in_context


def kinds(text: str) -> list[tuple[DataKind, str]]:
    return [(hit.kind, hit.text) for hit in find_personal_data(text)]


@pytest.mark.parametrize(
    "number",
    [
        "13945172863",
        "139-4517-2863",
        "139 4517 2863",
        "+86 138 0451 9372",
        "+8613804519372",
        "010-12345678",
        "(0451) 8765 4321",
        "0451 87654321",
        "+7 912 345-67-89",
        "8 (912) 345 67 89",
        "+44 20 7946 0958",
    ],
)
def test_phone_numbers_are_found_and_block(number: str) -> None:
    text = f"请联系 {number} 谢谢"
    assert kinds(text) == [(DataKind.PHONE, number)]
    assert blocking_hits(text)


@pytest.mark.parametrize(
    "number", ["11010519491231002X", "110105194912310021", "110105 19491231 0021"]
)
def test_id_numbers_are_found_and_block(number: str) -> None:
    found = kinds(f"身份证号{number}，")
    assert found == [(DataKind.ID_NUMBER, number)]  # not a phone number inside it


@pytest.mark.parametrize("plate", ["京A12345", "粤B·D12345", "沪C 8H8H8", "黑AF12345"])
def test_licence_plates_warn(plate: str) -> None:
    text = f"车牌{plate}的车堵门"
    assert kinds(text) == [(DataKind.PLATE, plate)]
    assert blocking_hits(text) == []


def test_email_warns() -> None:
    assert kinds("write to wang.xm+home@example.com.cn please") == [
        (DataKind.EMAIL, "wang.xm+home@example.com.cn")
    ]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("住在中山路12号楼下", "中山路12号"),
        ("幸福小区物业不开阀", "幸福小区"),
        ("3栋2单元502室漏水", "3栋2单元502室"),
        ("5号楼1702室", "5号楼1702室"),
        ("I live at 88 Qiaolinwan Street since May", "88 Qiaolinwan Street"),
        ("the house in Lane 5 is cold", "Lane 5"),
        ("Flat 1702 is cold", "Flat 1702"),
        ("живу: ул. Ленина, д. 5", "ул. Ленина, д. 5"),
        ("кв. 12 не топят", "кв. 12"),
    ],
)
def test_addresses_warn(text: str, address: str) -> None:
    found = kinds(text)
    # Where a street's name begins cannot be told in Chinese: the hit may take a word before.
    assert any(kind is DataKind.ADDRESS and address in hit for kind, hit in found), found
    assert blocking_hits(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "暖气不热，室内只有十四度，已经三天了。",
        "Call 12345 for the hotline; the heating season starts on 15 November.",
        "В квартире холодно уже 3 дня, температура 14 градусов.",
        "供暖费每平方米29元，2026年11月1日开始供暖。",
    ],
)
def test_ordinary_text_has_no_hits(text: str) -> None:
    assert find_personal_data(text) == []


def test_hits_in_order_with_their_context() -> None:
    text = "王小明（13912345678）说三号楼暖气不热。身份证110105194912310021，住幸福小区。"
    hits = find_personal_data(text)
    assert [h.kind for h in hits] == [DataKind.PHONE, DataKind.ID_NUMBER, DataKind.ADDRESS]
    shown = in_context(text, hits[0], width=5)
    assert (shown.before, shown.hit.text, shown.after) == (
        "王小明（",
        "13912345678",
        "）说三号楼…",
    )
    assert text[hits[1].start : hits[1].end] == "110105194912310021"
