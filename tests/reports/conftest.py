"""The reports tests share one hand-built dataset per module: it takes a few seconds to tell through the services,
and every test only reads it (or writes inside its own savepoint, rolled back after the test)."""

import pytest
from django.db import transaction

from tests.factories import build_world
from tests.reports.dataset import Dataset, build_dataset


@pytest.fixture(scope="module")
def _module_dataset(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_dataset(build_world())
        finally:
            # Nothing of the dataset outlives the module: the tests' own transactions are savepoints inside this one.
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def dataset(_module_dataset, db) -> Dataset:
    return _module_dataset


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
