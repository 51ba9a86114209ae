"""Production settings pass Django's deployment checklist."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RIGHTSGUARD_"))}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    env["RIGHTSGUARD_FIELD_KEY"] = Fernet.generate_key().decode()
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'deploy-check.sqlite3'}")
    env.pop("REDIS_URL", None)
    return env


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def manage_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    """``manage.py check`` in a fresh process with ``env``."""
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_app_refuses_to_start_without_a_secret_key_in_production():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage_check(env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
