"""Plain SQL of a migration, run statement by statement on the databases it is written for.

Through RunPython, not RunSQL: the schema editor would split a trigger's body at its semicolons,
and some statements are one database's own (FTS5, pg_trgm). `tortoise sqlmigrate` shows them
instead of running them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any


def run_sql(
    by_dialect: Mapping[str, Sequence[str]],
) -> Callable[[Any, Any], Awaitable[None]]:
    """A RunPython step running the statements given for the database at hand (none for a
    database not named)."""

    async def run(apps: Any, schema_editor: Any) -> None:
        for sql in by_dialect.get(schema_editor.client.capabilities.dialect, ()):
            if schema_editor.collect_sql:  # `sqlmigrate`: shown, not run
                schema_editor.collected_sql.append(sql)
            else:  # whole: the schema editor would split a trigger's body at its semicolons
                await schema_editor.client.execute_query(sql)

    return run
