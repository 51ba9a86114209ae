import importlib
import os

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from rightsguard.celery import app as celery_app
from tests.evidence_backends import evidence_backend, s3_endpoint  # noqa: F401 - fixtures for every test module
from tests.factories import World, build_world

# Locally hypothesis explores new random examples on every run (and remembers failing ones in .hypothesis/), which
# is how it finds bugs. In CI the same commit must get the same verdict every time: examples are derived from each
# test alone and no example database is read or written. Hypothesis's built-in "ci" profile does this today; the
# profile is spelled out so the guarantee does not hang on a library default.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def _worker_redis_url(url: str, worker: str) -> str:
    """``url`` with a Redis database of this test worker's own: parallel workers (pytest-xdist's gw0, gw1, ...)
    each get theirs, as each gets its own test database, so one worker's Celery queues and worker heartbeat are
    never another's."""
    index = int(worker.removeprefix("gw") or 0)
    base, _, db = url.rstrip("/").rpartition("/")
    if not db.isdigit():
        base, db = url.rstrip("/"), "0"
    number = int(db) - index if int(db) >= index else int(db) + index
    return f"{base}/{number % 16}"


TEMPLATE_ENV = "RIGHTSGUARD_TEST_TEMPLATE"


def _migrate_template_once(config) -> None:
    """With parallel workers on PostgreSQL, the migrations run once, into a template database, before the workers
    start; each worker's test database is then a copy of it (Django's TEST["TEMPLATE"]), which the migrate that
    pytest-django runs finds already migrated. Every run migrates its template afresh from this commit's
    migrations."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not getattr(config.option, "numprocesses", None):
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import subprocess
    import sys
    from pathlib import Path

    import psycopg
    from django.conf import settings

    default = settings.DATABASES["default"]
    template = f"test_{default['NAME']}_template"[:63]
    server = {"host": default.get("HOST") or "", "port": default.get("PORT") or "", "user": default.get("USER") or ""}
    with psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in server.items() if v}) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{template}"')
    base, _, _ = url.partition("?")[0].rpartition("/")
    migrated = subprocess.run(  # our interpreter and arguments
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "DATABASE_URL": f"{base}/{template}"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if migrated.returncode != 0:
        raise pytest.UsageError(f"migrating the template test database failed:\n{migrated.stderr}")
    os.environ[TEMPLATE_ENV] = template  # the workers, started after this, inherit it


def pytest_configure(config):
    _migrate_template_once(config)
    template = os.environ.get(TEMPLATE_ENV)
    if template and os.environ.get("PYTEST_XDIST_WORKER"):
        from django.conf import settings

        settings.DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = template
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("REDIS_URL", "")
    if not worker or not url.startswith("redis://"):
        return
    from django.conf import settings

    own = _worker_redis_url(url, worker)
    os.environ["REDIS_URL"] = own  # the Celery workers and beat the tests start inherit it
    settings.REDIS_URL = own
    settings.CELERY_BROKER_URL = own
    celery_app.conf.broker_url = own


@pytest.fixture(autouse=True)
def _fast_and_local(settings):
    # PBKDF2 dominates run time; a cheap hasher keeps the suite fast without changing behaviour.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Tests render templates without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Lockout is proven by its own tests (tests/accounts/test_login.py); elsewhere a fuzzer or a table of bad
    # logins would otherwise lock the shared test users.
    settings.AXES_ENABLED = False
    # Two-factor log-in is proven by tests/accounts/test_mfa.py; other tests log supervisors in directly.
    settings.RIGHTSGUARD_MFA_REQUIRED = False
    # Unit tests run tasks in-process on commit; the integration tests start a real worker instead.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    # Each test starts in the site's language: a request in Chinese before it (LocaleMiddleware activates the
    # request's language on the thread and leaves it there) must not change what this one reads.
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _token_cache(settings):
    """The API token cache is on, as in production: Redis when the tests have one (as CI does), else a cache of this
    process (the tests run in one)."""
    if settings.CACHES["auth"]["BACKEND"] == "django.core.cache.backends.dummy.DummyCache":
        settings.CACHES = {
            **settings.CACHES,
            "auth": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rightsguard-auth"},
        }
        caches["auth"].clear()


_DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


@pytest.fixture(autouse=True)
def _migration_data(request):
    """The rows the migrations create (the stage time limits, the retention periods) are there for every test that
    uses the database.

    A transactional test ends by emptying every table, so without this a test that reads them would pass or fail by
    whether such a test ran before it (the authorization matrix's stage-limit row did, in a full run).
    """
    if request.node.get_closest_marker("django_db") is None and not _DATABASE_FIXTURES & set(request.fixturenames):
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps

    from cases.models import StageLimit

    if not StageLimit.objects.exists():
        importlib.import_module("cases.migrations.0002_queue_index_and_stage_limits").seed_limits(apps, None)
    from cases.models import RetentionPolicy

    if not RetentionPolicy.objects.exists():
        importlib.import_module("cases.migrations.0047_retention").seed_defaults(apps, None)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def postgres_only():
    """For behaviour only PostgreSQL can show (row locks under real concurrency). CI runs on PostgreSQL, so
    there a different database is a failure, not a skip."""
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run the suite on PostgreSQL (set DATABASE_URL)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


def reauthenticated(client, at: float | None = None):
    """Mark a logged-in test client's session as re-authenticated (now, or at the given timestamp), as the
    re-authentication page does before reveals and exports."""
    from django.utils import timezone

    from accounts.reauth import REAUTH_AT

    session = client.session
    session[REAUTH_AT] = timezone.now().timestamp() if at is None else at
    session.save()
    return client
