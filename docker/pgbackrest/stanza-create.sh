#!/bin/sh
# Runs once, when the compose postgres service initialises an empty volume
# (/docker-entrypoint-initdb.d): creates the pgBackRest stanza in both repositories while the
# entrypoint's temporary server runs, so archive_command succeeds from the first WAL segment.
# An existing volume: run it once by hand (docker compose exec postgres pgbackrest --stanza=bastion stanza-create).
set -eu
pgbackrest --stanza=bastion stanza-create
