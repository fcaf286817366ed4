"""PostgreSQL's prepared statements (DATABASE_PREPARED_STATEMENTS) when a migration changes a
column's type under a running process: each kept connection's prepared statements that read the
column then fail with "cached plan must not change result type", and would go on failing until
the connection is dropped (up to CONN_MAX_AGE). Outside a transaction, the failed statement did
nothing: the connection's prepared statements are dropped (psycopg forgets its own on seeing
DEALLOCATE ALL) and the statement runs again. Inside one, the transaction has failed and fails;
its rollback drops them, so the next one runs."""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.backends.signals import connection_created
from django.dispatch import receiver

STALE_PLAN = "cached plan must not change result type"


def run_again_after_a_stale_plan(execute, sql, params, many, context):
    try:
        return execute(sql, params, many, context)
    except NotSupportedError as error:
        connection = context["connection"]
        if STALE_PLAN not in str(error) or connection.in_atomic_block or not connection.get_autocommit():
            raise
        context["cursor"].cursor.execute("DEALLOCATE ALL")
        return execute(sql, params, many, context)


@receiver(connection_created)
def _recover_from_stale_plans(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql" and run_again_after_a_stale_plan not in connection.execute_wrappers:
        connection.execute_wrappers.append(run_again_after_a_stale_plan)
