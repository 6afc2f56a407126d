"""Knowledge-base storage rules that need no bot: languages and fallback, search across scripts,
offers and their outcomes, votes once per offer, edits by the owning department, figures, and
what /forget leaves of an offer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from storage.kb_load import SAMPLE_KNOWLEDGE, load_knowledge
from storage.knowledge import (
    KbArticleChanged,
    KbArticleNotFound,
    KbOfferNotFound,
    answered,
    answered_on_call,
    article,
    articles_to_review,
    filed,
    kb_figures,
    offer_for,
    offer_opened,
    open_offer,
    revisions,
    save_article,
    search,
    vote,
)
from storage.models import CaseKind, Department, Event, KbArticle, KbOffer, StaffRole
from storage.privacy import forget_citizen
from storage.staff import StaffNotAuthorized, add_staff, ensure_admins
from tests.case_fixtures import ALICE, BOB, FRIDAY_EVENING, new_case, submit
from tests.case_fixtures import db as catalog_db

__all__ = ["catalog_db"]
NOW = FRIDAY_EVENING
ADMIN, HEAT, GAS = 9001, 9002, 9003


@pytest.fixture
async def kb(catalog_db: None) -> None:
    heating = await Department.get(code="heating-company")
    await KbArticle.create(
        code="heating-season",
        categories=["heating.no-heat"],
        department=heating,
        titles={
            "en": "When the heating season starts and ends",
            "zh_Hans": "供暖季什么时候开始和结束",
            "ru": "Когда начинается и заканчивается отопительный сезон",
        },
        bodies={
            "en": "The heating season runs from 20 October to 20 April.",
            "zh_Hans": "本市供暖期为每年10月20日至次年4月20日。",
            "ru": "Отопительный сезон длится с 20 октября по 20 апреля.",
        },
        keywords={"zh_Hans": ["供暖期"], "en": ["heating season"]},
        review_by=date(2024, 12, 31),
        updated_at=NOW,
    )
    await KbArticle.create(
        code="water-bill",
        categories=["water.outage"],
        titles={"en": "How to pay the water bill", "zh_Hans": "如何缴纳水费"},
        bodies={"en": "Pay at any bank or online.", "zh_Hans": "可在银行或网上缴纳水费。"},
        keywords={"zh_Hans": ["水费"]},
        review_by=date(2027, 6, 30),
        updated_at=NOW,
    )


async def test_an_article_falls_back_to_the_default_language_and_says_so(kb: None) -> None:
    shown = await article("heating-season", "ru", "en")
    assert (shown.language, shown.fallback) == ("ru", False)
    assert shown.title.startswith("Когда")
    hant = await article("heating-season", "zh_Hant", "zh_Hans")
    assert (hant.language, hant.fallback, hant.title) == (
        "zh_Hans",
        True,
        "供暖季什么时候开始和结束",
    )
    assert (await article("water-bill", "ru", "en")).fallback
    with pytest.raises(KbArticleNotFound):
        await article("nothing", "en", "en")


async def test_search_crosses_languages_and_scripts_and_offers_nothing_weak(
    catalog_db: None,
) -> None:
    await load_knowledge(SAMPLE_KNOWLEDGE, default_language="en", now=NOW)
    found = await search("請問今年暖氣從幾號開始供應？", "zh_Hant", "en")
    assert found[0].code == "heating-season"
    assert (found[0].language, found[0].title) == (
        "zh_Hant",
        "供暖期從什麼時候開始，到什麼時候結束？",
    )
    found = await search("Когда в этом году включат отопление?", "ru", "en")
    assert (found[0].code, found[0].language) == ("heating-season", "ru")
    assert await search("my neighbour's cat is lost, can you help find it?", "en", "en") == []
    # An article made inactive is searched no more (the index notices the change).
    await KbArticle.filter(code="heating-season").update(active=False)
    assert "heating-season" not in [
        a.code for a in await search("Когда в этом году включат отопление?", "ru", "en")
    ]


async def test_an_offer_answered_counts_as_a_deflection_once(kb: None) -> None:
    offer = await open_offer(
        "intake", ["heating-season"], language="en", now=NOW, citizen_id=ALICE, kind="inquiry"
    )
    with pytest.raises(KbOfferNotFound):
        await offer_for(offer, BOB)  # someone else's
    await offer_opened(offer, "heating-season", now=NOW, citizen_id=ALICE)
    assert await vote("heating-season", True, offer_id=offer, citizen_id=ALICE)
    assert not await vote("heating-season", False, offer_id=offer, citizen_id=ALICE)
    with pytest.raises(KbOfferNotFound):
        await vote("water-bill", True, offer_id=offer, citizen_id=ALICE)  # not offered there
    shown = await article("heating-season", "en", "en")
    assert (shown.helpful, shown.not_helpful) == (1, 0)
    with pytest.raises(KbOfferNotFound):
        await answered(offer, None, now=NOW, citizen_id=BOB)
    await answered(offer, "heating-season", now=NOW, citizen_id=ALICE)
    with pytest.raises(KbOfferNotFound):
        await answered(offer, None, now=NOW, citizen_id=ALICE)  # decided already
    view = await offer_for(offer, ALICE)
    assert (view.outcome, view.opened, view.voted) == (
        "answered",
        ["heating-season"],
        {"heating-season": True},
    )
    await answered_on_call(
        ["water-bill"], "water-bill", staff_id=ADMIN, language="zh_Hans", now=NOW
    )
    inquiry = await submit(replace(new_case(), kind=CaseKind.INQUIRY), now=NOW)
    later = await open_offer("intake", ["water-bill", "heating-season"], language="en", now=NOW)
    await filed(later, inquiry.tracking, now=NOW)
    event = await Event.get(case__tracking=inquiry.tracking, kind="kb_offered")
    assert (event.public, event.payload["offered"]) == (False, ["water-bill", "heating-season"])
    figures = await kb_figures(NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert (figures.deflections, figures.inquiries_filed) == (2, 1)
    assert figures.instant_answer_rate == pytest.approx(2 / 3)
    assert figures.most_used == [("heating-season", 1), ("water-bill", 1)]
    assert figures.gaps == [("heating-season", 1), ("water-bill", 1)]
    # /forget leaves the offer's codes and outcome, not who was offered them.
    await forget_citizen(ALICE, now=NOW)
    assert await KbOffer.filter(citizen_id=ALICE).count() == 0
    assert await KbOffer.filter(outcome="answered").count() == 2


async def test_the_owning_department_edits_with_a_history(kb: None) -> None:
    await ensure_admins([ADMIN], now=NOW)
    await add_staff(HEAT, StaffRole.HANDLER, "heating-company", by=ADMIN, now=NOW)
    await add_staff(GAS, StaffRole.HANDLER, "gas-company", by=ADMIN, now=NOW)
    texts = {"titles": {"en": "Heating season"}, "bodies": {"en": "20 Oct to 20 Apr."}}
    edit: dict[str, Any] = {**texts, "keywords": {}, "review_by": date(2027, 1, 1), "now": NOW}
    with pytest.raises(StaffNotAuthorized):
        await save_article("heating-season", **edit, expected_version=1, by=GAS)
    version = await save_article("heating-season", **edit, expected_version=1, by=HEAT)
    assert version == 2
    # A second editor who opened version 1 does not overwrite version 2: refused, unchanged.
    with pytest.raises(KbArticleChanged) as changed:
        await save_article(
            "heating-season",
            **{**edit, "titles": {"en": "Stale"}, "bodies": {"en": "Stale."}},
            expected_version=1,
            by=HEAT,
        )
    assert changed.value.version == 2
    assert (await article("heating-season", "en", "en")).title == "Heating season"
    assert [(r.version, r.source, r.by_staff) for r in await revisions("heating-season")] == [
        (2, "dashboard", HEAT)
    ]
    assert (await article("heating-season", "zh_Hans", "en")).fallback
    due = await articles_to_review(date(2028, 1, 1), department_code="heating-company")
    assert [a.code for a in due] == ["heating-season"]
    assert [a.code for a in await articles_to_review(date(2026, 1, 1))] == []
