#!/bin/sh
# Runs once, when the postgres container initialises an empty volume (/docker-entrypoint-initdb.d),
# for the replicas profile (docs/replicas.md): a replication login and the pg_hba line that lets
# it stream WAL. Without REPLICATION_PASSWORD it does nothing (no replica, no replication login).
set -eu
[ -n "${REPLICATION_PASSWORD:-}" ] || exit 0
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo 'host replication replicator all scram-sha-256' >> "$PGDATA/pg_hba.conf"
