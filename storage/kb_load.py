"""Loading a knowledge-base file (`minsheng kb load FILE`, and the sample at first start).

The file is read and checked whole against the loaded catalogue (storage.kb_file) before one
transaction writes it: a new code is created (version 1), an article whose file text changed
gets a new version and a KbRevision (source "file"), and an active code left out of the file is
marked inactive (never deleted: offers name it). An unchanged article is left as it is, so
reloading the same file writes nothing. The file is the source of truth: reloading it replaces
what was edited on the dashboard since (the history keeps both).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from storage.kb_file import ArticleSpec, Catalogue, article_values, read_kb_file
from storage.models import Category, Department, KbArticle, KbRevision
from storage.toml_files import LoadReport

SAMPLE_KNOWLEDGE = Path(__file__).with_name("sample_knowledge.toml")


async def kb_loaded() -> bool:
    """Whether this desk has any article (the sample is loaded at first start otherwise)."""
    return await KbArticle.exists()


async def _catalogue(default_language: str) -> Catalogue:
    leaves = await Category.filter(parent_id__isnull=False).values_list("code", flat=True)
    departments = await Department.all().values_list("code", flat=True)
    return Catalogue(
        categories=frozenset(str(c) for c in leaves),
        departments=frozenset(str(d) for d in departments),
        default_language=default_language,
    )


def _stored(row: KbArticle) -> dict[str, Any]:
    return {
        "categories": row.categories,
        "titles": row.titles,
        "bodies": row.bodies,
        "keywords": row.keywords,
        "review_by": row.review_by,
        "department_id": row.department_id,  # type: ignore[attr-defined]
        "active": row.active,
    }


async def load_knowledge(path: Path, *, default_language: str, now: datetime) -> LoadReport:
    """Check a knowledge-base file whole, then write it in one transaction (module docstring).

    Raises KbFileInvalid (each problem with its line) and changes nothing if the file is wrong.
    """
    catalogue = await _catalogue(default_language)
    specs = await asyncio.to_thread(read_kb_file, path, catalogue)
    created = updated = unchanged = 0
    async with in_transaction():
        departments = dict(await Department.all().values_list("code", "id"))
        existing = {a.code: a for a in await KbArticle.all().select_for_update()}
        for spec in specs:
            wanted = article_values(spec) | {
                "department_id": departments[spec.department],
                "active": True,
            }
            row = existing.get(spec.code)
            if row is None:
                row = await KbArticle.create(code=spec.code, updated_at=now, version=1, **wanted)
                created += 1
            elif _stored(row) == wanted:
                unchanged += 1
                continue
            else:
                await row.update_from_dict(
                    wanted | {"version": row.version + 1, "updated_at": now}
                )
                await row.save()
                updated += 1
            await _revision(row, spec, now)
        listed = {s.code for s in specs}
        gone = sorted(code for code, row in existing.items() if row.active and code not in listed)
        if gone:
            await KbArticle.filter(code__in=gone).update(active=False, updated_at=now)
    return LoadReport("articles", created, updated, unchanged, tuple(gone))


async def _revision(row: KbArticle, spec: ArticleSpec, now: datetime) -> None:
    await KbRevision.create(
        article=row,
        version=row.version,
        titles=spec.titles,
        bodies=spec.bodies,
        keywords=spec.keywords,
        categories=spec.categories,
        review_by=spec.review_by,
        source="file",
        created_at=now,
    )
