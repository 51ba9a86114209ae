#!/bin/bash
# On the primary's first start (docker-entrypoint-initdb.d): a role for the standby to stream from, and the pg_hba
# line that lets it connect for replication, with its password (scram-sha-256), from the stack's network only.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$POSTGRES_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator 172.28.0.0/24 scram-sha-256" >> "$PGDATA/pg_hba.conf"
