#!/bin/sh
# Runs once, when the postgres container initialises an empty volume (/docker-entrypoint-initdb.d):
# the login postgres_exporter uses (compose service postgres-exporter), with the built-in
# pg_monitor role only: it reads statistics and settings, never a table's rows.
set -eu
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$MONITOR_DB_PASSWORD" <<'SQL'
CREATE ROLE bastion_monitor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
GRANT pg_monitor TO bastion_monitor;
SQL
