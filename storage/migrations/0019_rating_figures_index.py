"""/stats reads each rated case's answers to "solved?" and "satisfied?" from an index, not from
the rating's row (SQLite, 10M cases, a month of the whole desk: about a third of its CPU went
to reading those rows), and finds a case's granted disputes by the case, where it had walked
every dispute of the department with that status for each rated case (storage.stats_counts,
storage.digest)."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("minsheng", "0018_open_cases_index")]

    initial = False

    operations = [
        ops.RunSQL(
            [
                "CREATE INDEX case_rating_figures ON case_rating (case_id, solved, satisfaction)",
                "CREATE INDEX rating_dispute_case"
                " ON rating_dispute (case_id, status, department_id, filed_at)",
            ],
            [
                "DROP INDEX IF EXISTS case_rating_figures",
                "DROP INDEX IF EXISTS rating_dispute_case",
            ],
        )
    ]
