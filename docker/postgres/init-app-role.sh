#!/bin/sh
# Runs once, when the postgres container initialises an empty volume (/docker-entrypoint-initdb.d).
# Least privilege: the owner (POSTGRES_USER) runs migrations; the server logs in as APP_DB_USER.
# This only creates that login with its password; the migrate service (src/db/roles.ts) grants it
# row access after every migration run, and nothing more. test/deploy/runtime.test.ts runs this
# script, then the migration and the server as that role.
set -eu
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app="${APP_DB_USER:-bastion_app}" -v password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
SQL
