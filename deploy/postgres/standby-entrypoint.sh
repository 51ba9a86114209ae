#!/bin/bash
# The standby's start: on its first start, copy the primary with pg_basebackup -R (which also writes the standby's
# connection settings and standby.signal), then run PostgreSQL as the image does. PGPASSWORD is the replication
# role's password.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h db -p 5432 -q; do sleep 1; done
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  gosu postgres pg_basebackup -h db -p 5432 -U replicator -D "$PGDATA" -R -X stream -c fast
fi
exec docker-entrypoint.sh postgres -c hot_standby=on
