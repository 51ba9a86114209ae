"""Connection pooling and a second web node, measured: the API list (GET /api/v1/cases/ as a county supervisor)
through gunicorn with wrk, on one database, in four ways:

- ``direct``: one node, persistent connections (CONN_MAX_AGE), the embedded default for PostgreSQL;
- ``psycopg``: one node, Django's psycopg pool (RIGHTSGUARD_DB_POOL=psycopg);
- ``pgbouncer``: one node behind PgBouncer in transaction mode (RIGHTSGUARD_DB_POOL=pgbouncer);
- ``two_nodes``: two nodes (direct), each with its own gunicorn, the connections split between them.

Each node runs two gunicorn workers. The ways are measured in turn, twice each, in interleaved order, so a change in
the machine's load touches all of them alike; the load average is printed with each run.

    .venv/bin/python benchmarks/pooling.py --cases 20000            # seed a scratch database, measure, drop it
    .venv/bin/python benchmarks/pooling.py --database rg_bench_1m --reuse

Needs wrk and pgbouncer (Debian's packages) and root (PgBouncer runs as the postgres account).
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import flag_scan
import run

WAYS = ("direct", "psycopg", "pgbouncer", "two_nodes")


class Bouncer:
    def __init__(self, database: str) -> None:
        self.port = run.free_port()
        self.home = Path(tempfile.mkdtemp(prefix="rg-bench-pgbouncer-"))
        (self.home / "users.txt").write_text('"postgres" ""\n')
        (self.home / "pgb.ini").write_text(
            f"[databases]\n{database} = host=127.0.0.1 port=5432 dbname={database}\n[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\nauth_type = trust\n"
            f"auth_file = {self.home / 'users.txt'}\npool_mode = transaction\ndefault_pool_size = 4\n"
            f"max_client_conn = 200\nlogfile = {self.home / 'pgbouncer.log'}\n"
        )
        os.chmod(self.home, 0o755)  # noqa: S103 - the postgres account reads its configuration here
        for path in (self.home, *self.home.iterdir()):
            shutil.chown(path, "postgres", "postgres")
        self.proc = subprocess.Popen(  # noqa: S603
            ["runuser", "-u", "postgres", "--", shutil.which("pgbouncer") or "pgbouncer", str(self.home / "pgb.ini")],  # noqa: S607
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.home, ignore_errors=True)


def start_node(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = run.free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(run.PYTHON).parent)) or "gunicorn"
    server = subprocess.Popen(  # noqa: S603
        [gunicorn, "rightsguard.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
        cwd=run.ROOT,
        env=env,
    )
    for _ in range(120):  # up to 60 s to start
        try:
            if run._request(port, "GET", "/healthz").status == 200:
                return server, port
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit("gunicorn exited")
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


def measure(way: str, database: str, duration: int, connections: int, redis_url: str) -> dict[str, Any]:
    env = run.env_for(database)
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        RIGHTSGUARD_MFA_REQUIRED="0",
        DJANGO_LOG_LEVEL="WARNING",
    )
    if redis_url:
        env.update(REDIS_URL=redis_url, CELERY_TASK_ALWAYS_EAGER="1")
    bouncer = None
    nodes: list[tuple[subprocess.Popen, int]] = []
    try:
        if way == "psycopg":
            env.update(RIGHTSGUARD_DB_POOL="psycopg", RIGHTSGUARD_DB_POOL_MAX="4")
        if way == "pgbouncer":
            bouncer = Bouncer(database)
            env.update(
                RIGHTSGUARD_DB_POOL="pgbouncer", DATABASE_URL=f"postgres://postgres@127.0.0.1:{bouncer.port}/{database}"
            )
        for _ in range(2 if way == "two_nodes" else 1):
            nodes.append(start_node(env))
        token = run.api_token(nodes[0][1], "bench_county")
        header = f"Authorization: Token {token}"
        load = flag_scan.loadavg()
        if len(nodes) == 1:
            done = [run.wrk(nodes[0][1], "/api/v1/cases/", header, duration, connections)]
        else:
            # Two wrk processes at once, half the connections each: a proxy's round robin without the proxy.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=2) as pool:
                done = list(
                    pool.map(lambda n: run.wrk(n[1], "/api/v1/cases/", header, duration, connections // 2), nodes)
                )
        return {
            "requests_per_s": round(sum(d["requests_per_s"] for d in done), 1),
            "p99_ms": max(d["p99_ms"] or 0 for d in done),
            "non_2xx": sum(d["non_2xx"] for d in done),
            "loadavg_before": load,
            "loadavg_after": flag_scan.loadavg(),
        }
    finally:
        for server, _port in nodes:
            stop(server)
        if bouncer is not None:
            bouncer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--database", default=f"rg_bench_pool_{os.getpid()}")
    parser.add_argument("--reuse", action="store_true", help="Measure an existing seeded database (kept).")
    parser.add_argument("--duration", type=int, default=15, help="Seconds per wrk run.")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    args = parser.parse_args()
    os.environ.setdefault("RIGHTSGUARD_FIELD_KEY", run.BENCH_FIELD_KEY)
    for tool in ("wrk", "pgbouncer"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install -y {tool})")
    db = args.database
    try:
        if not args.reuse:
            print(f"Seeding {args.cases:,} cases into {db}...", flush=True)
            run.seed(db, args.cases)
        # The benchmark's accounts (bench_county and the others), as the main benchmark makes them.
        users = "import sys; sys.path.insert(0, 'benchmarks'); import run; run.ensure_users()"
        run.manage(db, "shell", "--no-imports", "-v", "0", "-c", users)
        run.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
        run.manage(db, "collectstatic", "--no-input", "-v0")
        runs: dict[str, list[dict[str, Any]]] = {way: [] for way in WAYS}
        for round_ in range(args.rounds):
            for way in WAYS if round_ % 2 == 0 else tuple(reversed(WAYS)):
                print(f"{way} (round {round_ + 1})...", file=sys.stderr, flush=True)
                runs[way].append(measure(way, db, args.duration, args.connections, args.redis_url))
        print(f"\nAPI list, {args.connections} connections, {args.duration} s per run, {args.rounds} runs each:")
        print(f"{'way':<10} {'req/s (median)':>15} {'p99 ms (max)':>13} {'non-2xx':>8}  load averages")
        for way, rows in runs.items():
            rate = statistics.median(r["requests_per_s"] for r in rows)
            p99 = max(r["p99_ms"] for r in rows)
            bad = sum(r["non_2xx"] for r in rows)
            loads = " ".join(f"{r['loadavg_before'][0]}" for r in rows)
            print(f"{way:<10} {rate:>15,.1f} {p99:>13,.1f} {bad:>8}  {loads}")
        print("RESULT " + json.dumps(runs))
    finally:
        if not args.reuse:
            flag_scan.psql(f'DROP DATABASE IF EXISTS "{db}"')


if __name__ == "__main__":
    main()
