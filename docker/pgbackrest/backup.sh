#!/bin/sh
# One pgBackRest backup of the given type into every repository, then (with BACKUP_METRICS_DIR)
# the time of this success as a node_exporter textfile metric, which the BackupTooOld
# alert reads. Run by the CronJobs, the compose `pitr` profile and `npm run drill`.
#   backup.sh full|diff|incr
#   backup.sh auto    full on Sundays, incremental on other days (the compose scheduler)
# pgBackRest reads its settings from PGBACKREST_* variables and its --config file
# (PGBACKREST_CONFIG, default /etc/pgbackrest/pgbackrest.conf); PGBACKREST_STANZA names the stanza.
set -eu
type="${1:?usage: backup.sh full|diff|incr|auto}"
if [ "$type" = auto ]; then if [ "$(date -u +%u)" = 7 ]; then type=full; else type=incr; fi; fi
case "$type" in full|diff|incr) ;; *) echo "backup.sh: unknown type $type (full, diff or incr)" >&2; exit 2 ;; esac
stanza="${PGBACKREST_STANZA:-bastion}"
# repositories to back up into, in order: the local one first, then the other region's
for repo in ${BACKUP_REPOS:-1 2}; do
  pgbackrest --stanza="$stanza" --repo="$repo" --type="$type" backup
done
if [ -n "${BACKUP_METRICS_DIR:-}" ]; then
  file="$BACKUP_METRICS_DIR/bastion_backup_$type.prom"
  # written beside its name and renamed: node_exporter never reads half a file
  {
    echo '# HELP backup_last_success_timestamp_seconds Unix time of the last backup that succeeded in every repository.'
    echo '# TYPE backup_last_success_timestamp_seconds gauge'
    echo "backup_last_success_timestamp_seconds{stanza=\"$stanza\",type=\"$type\"} $(date +%s)"
  } > "$file.$$"
  mv "$file.$$" "$file"
fi
echo "backup.sh: $type backup of $stanza done in repositories ${BACKUP_REPOS:-1 2}"
