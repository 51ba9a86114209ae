"""The README's first command runs the site on the embedded default: SQLite, tasks in-process, demo data. CI proves
everything else on PostgreSQL, so this test keeps the embedded default working: every migration applies to a fresh
SQLite database (a check only PostgreSQL can state must not stop it), the demo data seeds, and a page answers."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our interpreter and arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def test_a_fresh_sqlite_database_migrates_seeds_the_demo_and_serves_the_log_in_page(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RIGHTSGUARD_", "CELERY_"))},
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rightsguard.sqlite3'}",
        "REDIS_URL": "",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "RIGHTSGUARD_MFA_REQUIRED": "0",
    }
    migrated = _manage(env, "migrate", "--no-input", "-v0")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    seeded = _manage(env, "seed_demo")
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    page = _manage(
        env,
        "shell",
        "--no-imports",
        "-v",
        "0",
        "-c",
        "from django.test import Client; from cases.models import Case; from library.models import WriteUp; "
        "r = Client().get('/accounts/login/', HTTP_HOST='localhost'); "
        "print(r.status_code, Case.objects.exists(), WriteUp.objects.filter(state='published').count())",
    )
    assert page.returncode == 0, page.stderr[-3000:]
    assert page.stdout.split()[-3:] == ["200", "True", "3"]
