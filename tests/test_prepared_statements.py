"""PostgreSQL's prepared statements on a kept connection, when a migration changes a column's
type under them (clinic/prepared_statements.py)."""

from __future__ import annotations

import pytest
from django.db import NotSupportedError, connection, connections, transaction

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
    pytest.mark.skipif(not connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold"),
                       reason="DATABASE_PREPARED_STATEMENTS is off"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def probe():
    """A table of its own, read through the kept connection until its statement is prepared."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE stale_plan_probe (id integer PRIMARY KEY, name varchar(10))")
        cursor.execute("INSERT INTO stale_plan_probe VALUES (1, 'Ana')")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE stale_plan_probe")


def read() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM stale_plan_probe WHERE id = %s", [1])
        return cursor.fetchone()[0]


def widen_the_column_elsewhere() -> None:
    """What a migration's AlterField (a longer max_length) does, from another process."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("ALTER TABLE stale_plan_probe ALTER COLUMN name TYPE varchar(20)")
    finally:
        other.close()


def prepared_runs() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(generic_plans + custom_plans), 0) FROM pg_prepared_statements "
                       "WHERE statement LIKE 'SELECT name FROM stale_plan_probe%%'")
        return cursor.fetchone()[0]


def test_outside_a_transaction_the_statement_runs_again(probe):
    for _ in range(7):
        assert read() == "Ana"
    assert prepared_runs() >= 1

    widen_the_column_elsewhere()

    assert read() == "Ana"  # no "cached plan must not change result type"
    assert read() == "Ana"


def test_inside_a_transaction_only_that_transaction_fails(probe):
    for _ in range(7):
        read()
    widen_the_column_elsewhere()

    with pytest.raises(NotSupportedError), transaction.atomic():
        read()  # the transaction cannot go on after a failed statement; its rollback drops the plans

    with transaction.atomic():
        assert read() == "Ana"
    assert read() == "Ana"
