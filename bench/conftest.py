"""The selector's benchmark reads the large clinic that `make bench` seeded in its own database
(DATABASE_URL): no test database is created and each test runs in a transaction rolled back."""

import pytest


@pytest.fixture(scope="session")
def django_db_setup():
    pass
