"""The public board's search index over the public title, text and note of cases.

SQLite: an FTS5 table with the trigram tokenizer (board_search, rowid = the case's id), kept in
step with service_case by triggers; it holds every case with a public text, and the board's
queries still go through storage.publication.published_cases(). Each text is followed by a
space so that a two-character word at its end still begins a trigram (storage.board finds
short words by the trigrams they begin). PostgreSQL: pg_trgm and a GIN trigram index over the
same three columns joined, for ILIKE, and a partial index of the ids of the cases with a public
text, so that the newest public texts (storage.board_search reads them first, and for short
words) are an index walk rather than a filter over every case. On both, partial indexes of the published cases by
department, by category and by publication time, so that a filtered page or the feed reads a
few index entries rather than every case of a department (SQLite, 1M cases, 114k published: a
department's board page 90 ms → 0.5 ms).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from storage.migration_sql import run_sql

# Kept identical to storage.board_search.PG_WORDS: PostgreSQL uses an expression index only
# for the very same expression.
PG_WORDS = (
    "(coalesce(public_title, '') || ' ' || coalesce(public_text, '') || ' '"
    " || coalesce(public_note, ''))"
)
SQLITE_WORDS = (
    "coalesce(new.public_title, '') || ' ' || coalesce(new.public_text, '') || ' '"
    " || coalesce(new.public_note, '') || ' '"
)
HAS_TEXT = "new.public_text IS NOT NULL AND new.public_text != ''"

SQLITE_UP = (
    "CREATE VIRTUAL TABLE board_search USING fts5(words, tokenize = 'trigram')",
    f"CREATE TRIGGER board_search_insert AFTER INSERT ON service_case WHEN {HAS_TEXT} BEGIN"
    f" INSERT INTO board_search (rowid, words) VALUES (new.id, {SQLITE_WORDS}); END",
    "CREATE TRIGGER board_search_update AFTER UPDATE OF public_title, public_text, public_note"
    " ON service_case BEGIN DELETE FROM board_search WHERE rowid = old.id;"
    f" INSERT INTO board_search (rowid, words) SELECT new.id, {SQLITE_WORDS} WHERE {HAS_TEXT};"
    " END",
    "CREATE TRIGGER board_search_delete AFTER DELETE ON service_case BEGIN"
    " DELETE FROM board_search WHERE rowid = old.id; END",
    "INSERT INTO board_search (rowid, words) SELECT id, coalesce(public_title, '') || ' ' ||"
    " coalesce(public_text, '') || ' ' || coalesce(public_note, '') || ' ' FROM service_case"
    " WHERE public_text IS NOT NULL AND public_text != ''",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS board_search_insert",
    "DROP TRIGGER IF EXISTS board_search_update",
    "DROP TRIGGER IF EXISTS board_search_delete",
    "DROP TABLE IF EXISTS board_search",
)
POSTGRES_UP = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS service_case_board_words ON service_case"
    f" USING gin ({PG_WORDS} gin_trgm_ops) WHERE public_text IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS service_case_board_newest ON service_case (id)"
    " WHERE public_text IS NOT NULL",
)
POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS service_case_board_words",
    "DROP INDEX IF EXISTS service_case_board_newest",
)
# `NOT published_at IS NULL`, as the ORM writes published_cases(): SQLite uses a partial index
# only when the query holds its condition in the same form.
BOTH_UP = (
    "CREATE INDEX service_case_board_department ON service_case (department_id, id)"
    " WHERE NOT published_at IS NULL",
    "CREATE INDEX service_case_board_category ON service_case (category_id, id)"
    " WHERE NOT published_at IS NULL",
    "CREATE INDEX service_case_board_published ON service_case (published_at, id)"
    " WHERE NOT published_at IS NULL",
)
BOTH_DOWN = (
    "DROP INDEX IF EXISTS service_case_board_department",
    "DROP INDEX IF EXISTS service_case_board_category",
    "DROP INDEX IF EXISTS service_case_board_published",
)


class Migration(migrations.Migration):
    dependencies = [("minsheng", "0014_knowledge_base_and_board")]

    initial = False

    operations = [
        ops.RunPython(
            run_sql({"sqlite": SQLITE_UP + BOTH_UP, "postgres": POSTGRES_UP + BOTH_UP}),
            run_sql({"sqlite": SQLITE_DOWN + BOTH_DOWN, "postgres": POSTGRES_DOWN + BOTH_DOWN}),
        )
    ]
