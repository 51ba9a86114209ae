"""The compose stack for production (docker-compose.yml, deploy/): read as Compose resolves it (``docker-compose
config``: anchors and variables expanded), since no container engine runs here. The proxy is the only door from
outside and the only address whose forwarded headers the application trusts; two web processes and two workers; one
beat; the reports read the standby; the evidence is in MinIO; everything restarts by itself."""

import ipaddress
import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret",
    "POSTGRES_REPLICATION_PASSWORD": "repl-secret",
    "MINIO_ROOT_USER": "minio-user",
    "MINIO_ROOT_PASSWORD": "minio-secret",
    "MINIO_KMS_SECRET_KEY": "rightsguard:a2V5",
    "DJANGO_SECRET_KEY": "django-secret",
    "RIGHTSGUARD_FIELD_KEY": "field-key",
    "RIGHTSGUARD_SITE_HOST": "rightsguard.example.police",
}
LONG_RUNNING = ("db", "db-standby", "redis", "minio", "web", "worker", "beat", "proxy")
ONE_OFF = ("migrate", "static", "evidence-bucket")


@pytest.fixture(scope="module")
def stack() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    done = subprocess.run(
        ["docker-compose", "config"],  # noqa: S607 - Debian's docker-compose, as .ci/run validates the file with
        cwd=ROOT,
        env={**env, **SECRETS},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return yaml.safe_load(done.stdout)


def test_the_proxy_is_the_only_door_and_the_only_trusted_forwarder(stack):
    services = stack["services"]
    published = {name: service["ports"] for name, service in services.items() if service.get("ports")}
    assert list(published) == ["proxy"]
    assert sorted(str(p["target"]) for p in published["proxy"]) == ["443", "80"]
    proxy_address = services["proxy"]["networks"]["stack"]["ipv4_address"]
    subnet = ipaddress.ip_network(stack["networks"]["stack"]["ipam"]["config"][0]["subnet"])
    assert ipaddress.ip_address(proxy_address) in subnet
    for name in ("web", "worker", "beat", "migrate"):
        assert services[name]["environment"]["RIGHTSGUARD_TRUSTED_PROXIES"] == proxy_address
        assert services[name]["environment"]["DJANGO_ALLOWED_HOSTS"] == SECRETS["RIGHTSGUARD_SITE_HOST"]


def test_two_web_processes_two_workers_and_one_beat(stack):
    services = stack["services"]
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert "deploy/gunicorn.conf.py" in services["web"]["command"]


def test_everything_long_running_restarts_by_itself_and_the_one_offs_do_not(stack):
    services = stack["services"]
    assert set(services) == set(LONG_RUNNING) | set(ONE_OFF)
    assert {name: services[name]["restart"] for name in LONG_RUNNING} == dict.fromkeys(LONG_RUNNING, "unless-stopped")
    assert {name: services[name]["restart"] for name in ONE_OFF} == dict.fromkeys(ONE_OFF, "no")
    for name in ("db", "db-standby", "redis", "minio", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name


def test_the_reports_read_the_standby_and_the_evidence_is_in_minio(stack):
    env = stack["services"]["web"]["environment"]
    replica = urlsplit(env["DATABASE_REPLICA_URL"])
    assert (replica.hostname, replica.path) == ("db-standby", "/rightsguard")
    storage = urlsplit(env["RIGHTSGUARD_STORAGE_URL"])
    query = parse_qs(storage.query)
    assert (storage.scheme, storage.netloc, query["endpoint"], query["addressing"]) == (
        "s3",
        "rightsguard-evidence",
        ["http://minio:9000"],
        ["path"],
    )
    assert "@" not in env["RIGHTSGUARD_STORAGE_URL"]  # the keys travel apart from the URL
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("minio-user", "minio-secret")
    assert stack["services"]["minio"]["environment"]["MINIO_KMS_SECRET_KEY"] == SECRETS["MINIO_KMS_SECRET_KEY"]
    standby = (ROOT / "deploy/postgres/standby-entrypoint.sh").read_text()
    assert 'pg_basebackup -h db -p 5432 -U replicator -D "$PGDATA" -R -X stream' in standby
    primary = (ROOT / "deploy/postgres/primary-init.sh").read_text()
    assert "CREATE ROLE replicator WITH REPLICATION LOGIN" in primary
    assert "host replication replicator 172.28.0.0/24 scram-sha-256" in primary


def test_a_required_secret_left_unset_stops_compose():
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    missing = {k: v for k, v in SECRETS.items() if k != "MINIO_KMS_SECRET_KEY"}
    done = subprocess.run(
        ["docker-compose", "config", "-q"],  # noqa: S607
        cwd=ROOT,
        env={**env, **missing},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "set MINIO_KMS_SECRET_KEY" in done.stderr


def test_the_proxies_replace_the_forwarded_headers_keep_metrics_inside_and_fetch_nothing():
    caddy = (ROOT / "deploy/Caddyfile").read_text()
    assert "tls internal" in caddy
    assert "@monitoring path /metrics\n\trespond @monitoring 404" in caddy
    assert "dynamic a {\n\t\t\t\tname web\n\t\t\t\tport 8000" in caddy
    assert "trusted_proxies" not in caddy  # Caddy then sets X-Forwarded-* itself, whatever the client sent
    nginx = (ROOT / "deploy/nginx/rightsguard.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx  # replaced, never appended to
    assert "location = /metrics { return 404; }" in nginx
