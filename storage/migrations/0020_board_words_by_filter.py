"""PostgreSQL: the board's trigram index also holds each case's category and department
(btree_gin), so that a filtered search reads from the index only the cases of that category or
department holding the words, where it rechecked every case of the desk holding them and then
dropped those of other categories (10M cases, 1.1M published: a common phrase in a category
where it is nowhere, 280 ms → 2 ms). A search with no filter uses it as it used the index it
replaces. SQLite's FTS5 index is unchanged."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from storage.migration_sql import run_sql

# Kept identical to storage.board_search.PG_WORDS: PostgreSQL uses an expression index only
# for the very same expression.
PG_WORDS = (
    "(coalesce(public_title, '') || ' ' || coalesce(public_text, '') || ' '"
    " || coalesce(public_note, ''))"
)
UP = (
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX IF NOT EXISTS service_case_board_words_by ON service_case USING gin"
    f" (category_id, department_id, {PG_WORDS} gin_trgm_ops) WHERE public_text IS NOT NULL",
    "DROP INDEX IF EXISTS service_case_board_words",
)
DOWN = (
    f"CREATE INDEX IF NOT EXISTS service_case_board_words ON service_case"
    f" USING gin ({PG_WORDS} gin_trgm_ops) WHERE public_text IS NOT NULL",
    "DROP INDEX IF EXISTS service_case_board_words_by",
)


class Migration(migrations.Migration):
    dependencies = [("minsheng", "0019_rating_figures_index")]

    initial = False

    operations = [ops.RunPython(run_sql({"postgres": UP}), run_sql({"postgres": DOWN}))]
