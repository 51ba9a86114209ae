"""The production stack started natively for the fault tests: a private PostgreSQL cluster, a private Redis with
AOF, gunicorn, a Celery worker and beat — on loopback ports of their own, so stopping or restarting them never
touches the machine's shared services.

Every wait is bounded; every process is killed at the end.
"""

import base64
import contextlib
import fcntl
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0
# The worker's arguments after `celery -A rightsguard`, exactly as docker-compose.yml and
# deploy/systemd/rightsguard-worker.service start it (tests/faults/test_worker.py keeps the three in step).
DEPLOYED_WORKER = ("worker", "--loglevel=INFO", "--concurrency=2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    if pg_bindir() is None:
        return "needs the PostgreSQL server binaries (initdb)"
    if shutil.which("redis-server") is None:
        return "needs redis-server"
    if os.geteuid() != 0:
        return "needs root (a private PostgreSQL cluster runs as postgres; the disk-full test mounts a tmpfs)"
    return None


def cache_root(tmp_path_factory: Any) -> Path:
    """Where the stacks of one test run share what every one of them would otherwise build again: the folder of
    the whole run (shared by pytest-xdist's workers), or, without workers, the run's own folder. A new run never
    reads an earlier run's copy."""
    base = Path(tmp_path_factory.getbasetemp())
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "native-stack-cache"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time, across the run's workers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = WAIT, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class NativeStack:
    tmp: Path
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    mounted: bool = False
    pg_home: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def media(self) -> Path:
        return self.tmp / "media"

    @property
    def mail_dir(self) -> Path:
        return self.tmp / "mail"

    # --- PostgreSQL ------------------------------------------------------------------------------------------
    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(  # fixed binaries and arguments
            ["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, timeout=WAIT, check=check
        )

    def init_postgres(self) -> None:
        # The cluster lives where the postgres account can reach it (pytest's temporary root is private to root).
        self.pg_home = Path(tempfile.mkdtemp(prefix="rg-faults-pg-"))
        os.chmod(self.pg_home, 0o755)
        shutil.chown(self.pg_home, "postgres", "postgres")
        data = self.pg_dir
        data.mkdir(mode=0o700)
        shutil.chown(data, "postgres", "postgres")
        bindir = pg_bindir()
        self._as_postgres(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start_postgres()
        self._as_postgres(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "rightsguard")

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        opts = f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -k {self.pg_dir} -c fsync=off"
        return self._as_postgres(
            str(pg_bindir() / "pg_ctl"), "-D", str(self.pg_dir), "-l", str(self.pg_home / "pg.log"), "-o", opts, *args
        )

    @property
    def pg_dir(self) -> Path:
        return self.pg_home / "data"

    def start_postgres(self) -> None:
        self.pg_ctl("start", "-w", "-t", "60")

    def restart_postgres_immediately(self) -> None:
        self.pg_ctl("restart", "-m", "immediate", "-w", "-t", "60")

    def _stop_pg(self) -> None:
        if self.pg_home is None:
            return
        self._as_postgres(str(pg_bindir() / "pg_ctl"), "-D", str(self.pg_dir), "stop", "-m", "fast", check=False)
        shutil.rmtree(self.pg_home, ignore_errors=True)

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/rightsguard"

    def sql(self, query: str, *params: Any) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.pg_port} user=postgres dbname=rightsguard") as conn:
            return conn.execute(query, params).fetchall()

    def _pg_tool(self, tool: str, *args: str) -> None:
        done = subprocess.run(  # fixed binaries and arguments
            [str(pg_bindir() / tool), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr

    def migrate(self, cache: Path) -> None:
        """The schema every migration makes. The first stack of a run migrates and keeps a dump; the others restore
        it (seconds instead of a minute or two of migrations)."""
        dump = cache / "migrated.dump"
        with _locked(cache / "migrated.lock"):
            if not dump.exists():
                migrated = self.manage("migrate", "--no-input", "-v0")
                assert migrated.returncode == 0, migrated.stderr
                part = cache / "migrated.dump.part"
                self._pg_tool("pg_dump", "-Fc", "-d", "rightsguard", "-f", str(part))
                part.rename(dump)
                return
        self._pg_tool("pg_restore", "--exit-on-error", "--no-owner", "-d", "rightsguard", str(dump))

    def collect_static(self, cache: Path) -> None:
        """The collected static files, made once per run and shared read-only by every stack's web nodes."""
        static = cache / "static"
        with _locked(cache / "static.lock"):
            if not static.exists():
                part = cache / "static.part"
                shutil.rmtree(part, ignore_errors=True)
                collected = self.manage("collectstatic", "--no-input", "-v0", env={"DJANGO_STATIC_ROOT": str(part)})
                assert collected.returncode == 0, collected.stderr
                part.rename(static)
        self.env["DJANGO_STATIC_ROOT"] = str(static)

    def build_world(self) -> None:
        seeded = self.manage(
            "shell", "--no-imports", "-v", "0", "-c", "from tests.factories import build_world; build_world()"
        )
        assert seeded.returncode == 0, seeded.stderr

    # --- Redis -----------------------------------------------------------------------------------------------
    def start_redis(self) -> None:
        (self.tmp / "redis").mkdir(exist_ok=True)
        self.start(
            "redis",
            [
                *(
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.tmp / "redis"),
                ),
                *("--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction", "--save", ""),
            ],
        )
        wait_for(self.redis_up, "Redis to start")

    def redis_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def flush_redis(self) -> None:
        """The broker loses everything it holds (a flushed or rebuilt Redis), queued tasks included."""
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=5) as s:
            s.sendall(b"FLUSHALL\r\n")
            assert s.recv(16).startswith(b"+OK")

    def stop_redis(self) -> None:
        """A clean stop (SIGTERM: Redis writes its AOF and exits), as an operator's restart would."""
        proc = self.procs.pop("redis")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=WAIT)

    # --- the application -------------------------------------------------------------------------------------
    def configure(self, **extra: str) -> None:
        self.media.mkdir(exist_ok=True)
        self.mail_dir.mkdir(exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RIGHTSGUARD_", "CELERY_"))},
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "RIGHTSGUARD_FIELD_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_SSL_REDIRECT": "0",
            "DATABASE_URL": self.database_url,
            "DJANGO_CONN_MAX_AGE": "60",
            "DJANGO_DB_CONNECT_TIMEOUT": "2",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "EMAIL_URL": "filemail://",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "MEDIA_ROOT": str(self.media),
            "DJANGO_STATIC_ROOT": str(self.tmp / "static"),
            "RIGHTSGUARD_MFA_REQUIRED": "0",
            "RIGHTSGUARD_OUTBOX_RELAY_SECONDS": "2",
            "RIGHTSGUARD_OUTBOX_RELAY_AFTER_SECONDS": "1",
            "RIGHTSGUARD_OUTBOX_REDELIVER_SECONDS": "8",
            "RIGHTSGUARD_FLAG_SCAN_SECONDS": "5",
            "CELERY_VISIBILITY_TIMEOUT": "10",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
            "DJANGO_LOG_LEVEL": "WARNING",
            "RIGHTSGUARD_WORKER_HEARTBEAT_FILE": str(self.tmp / "worker.heartbeat"),
            "RIGHTSGUARD_WORKER_HEARTBEAT_SECONDS": "2",
            **extra,
        }

    def manage(
        self, *args: str, timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(  # our interpreter and arguments
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen(  # our own binaries and arguments
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def start_web(self) -> None:
        self.start(
            "web",
            [
                *(sys.executable, "-m", "gunicorn", "rightsguard.wsgi", "-b", f"127.0.0.1:{self.web_port}", "-w", "2"),
                *("--timeout", "30", "--graceful-timeout", "5"),
            ],
            self.env,
        )
        wait_for(lambda: self._get_ok("/healthz"), "gunicorn to answer")

    def celery(self, name: str, *args: str) -> subprocess.Popen:
        return self.start(name, [sys.executable, "-m", "celery", "-A", "rightsguard", *args], self.env)

    def start_worker(self, name: str = "worker") -> None:
        self.celery(
            name, "worker", "-P", "solo", "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"
        )
        wait_for(lambda: b" ready." in self.log(name), f"{name} to start")

    def start_deployed_worker(self, name: str = "worker") -> subprocess.Popen:
        """The production worker: prefork with two processes, started as compose and systemd start it."""
        offset = len(self.log(name))  # the log is appended to: wait for this worker's own "ready"
        proc = self.celery(name, *DEPLOYED_WORKER)
        wait_for(lambda: b" ready." in self.log(name)[offset:], f"{name} to start")
        return proc

    def start_beat(self, name: str = "beat") -> None:
        self.celery(name, "beat", "-s", str(self.tmp / f"{name}-schedule"), "-l", "INFO")
        wait_for(lambda: b"beat: Starting" in self.log(name), f"{name} to start")

    def _get_ok(self, path: str) -> bool:
        try:
            return requests.get(self.base_url + path, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def log(self, name: str) -> bytes:
        path = self.tmp / f"{name}.log"
        return path.read_bytes() if path.exists() else b""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=WAIT)

    # --- tmpfs for the disk-full test ------------------------------------------------------------------------
    def mount_small_media(self, size: str) -> None:
        subprocess.run(  # fixed command
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(self.media)], check=True, timeout=30
        )
        self.mounted = True

    def unmount_media(self) -> None:
        if self.mounted:
            subprocess.run(["umount", str(self.media)], check=False, timeout=30)
            self.mounted = False

    # --- everything ------------------------------------------------------------------------------------------
    def up(self, cache: Path) -> None:
        self.init_postgres()
        self.start_redis()
        self.configure()
        self.migrate(cache)
        self.build_world()
        self.start_web()
        self.start_worker()
        self.start_beat()

    def down(self) -> None:
        for name in list(self.procs):
            self.kill(name)
        self.unmount_media()
        self._stop_pg()

    def tails(self) -> str:
        return "\n".join(
            f"--- {name}\n{self.log(name)[-2000:].decode(errors='replace')}" for name in ("web", "worker", "beat")
        )


class Api:
    """A token-authenticated API client for one user of the stack."""

    def __init__(self, stack: NativeStack, username: str, password: str) -> None:
        self.base = stack.base_url + "/api/v1"
        self.session = requests.Session()
        answer = self.session.post(
            f"{self.base}/auth/token/", json={"username": username, "password": password}, timeout=10
        )
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Token {answer.json()['token']}"

    def post(self, path: str, timeout: float = 15, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, timeout=timeout, **kwargs)

    def get(self, path: str, timeout: float = 15, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=timeout, **kwargs)


def print_figures(name: str, figures: dict[str, Any]) -> None:
    """Fault tests print their figures (lost, duplicates, recovery seconds) for the CI log."""
    print(f"\nFAULT {name}: {json.dumps(figures, sort_keys=True)}")
