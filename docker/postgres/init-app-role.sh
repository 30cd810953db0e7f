#!/bin/sh
# Runs once, when the postgres container initialises an empty volume (/docker-entrypoint-initdb.d).
# Least privilege: the owner (POSTGRES_USER) runs migrations; the server connects as APP_DB_USER,
# which may read and write rows of the tables the owner creates, and nothing else (PostgreSQL 15
# no longer lets every role create objects in schema public). test/deploy/runtime.test.ts runs
# this script and then the server as that role.
set -eu
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner="$POSTGRES_USER" -v app="${APP_DB_USER:-bastion_app}" -v password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"app" LOGIN PASSWORD :'password';
GRANT USAGE ON SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"app";
SQL
