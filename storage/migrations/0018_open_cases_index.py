"""The /queue pages over every open case (storage.queue_open): partial indexes of the open
cases, and of the open ones that are new or to be routed by hand (a closed case keeps its
route_by_hand, and must not stay in that index for ever), in id order, so that a page is a
short walk rather than a sort of every open case (SQLite, 1M cases with 100k open, an admin's
"now" page: 70 → 3 ms of CPU, with its count capped).

The open statuses are written out: a database uses a partial index only for a query that holds
its condition in the same form, and storage.queue_open writes it so (tests/test_queue_open.py
checks that the two agree).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from storage.migration_sql import run_sql

OPEN = "('accepted', 'answered', 'awaiting_citizen', 'in_progress', 'submitted')"
WAITING = "status = 'submitted' OR route_by_hand"

UP = (
    "CREATE INDEX service_case_open ON service_case"
    f" (id, due_at, status, route_by_hand, department_id) WHERE status IN {OPEN}",
    "CREATE INDEX service_case_waiting ON service_case"
    f" (id, due_at, status, route_by_hand) WHERE status IN {OPEN} AND ({WAITING})",
)
DOWN = (
    "DROP INDEX IF EXISTS service_case_open",
    "DROP INDEX IF EXISTS service_case_waiting",
)


class Migration(migrations.Migration):
    dependencies = [("minsheng", "0017_stats_index")]

    initial = False

    operations = [
        ops.RunPython(
            run_sql({"sqlite": UP, "postgres": UP}), run_sql({"sqlite": DOWN, "postgres": DOWN})
        )
    ]
