#!/bin/sh
# The compose profiles' scheduler (their images have no cron daemon; in Kubernetes the CronJobs
# schedule): runs "$@" once now when SCHEDULE_NOW=1, then every day at SCHEDULE_AT (HH:MM, UTC).
# The command decides what the day calls for (backup.sh auto, maintenance.sh auto). A failed run
# is logged and the next day's runs; the BackupTooOld alert catches a backup that keeps failing.
set -eu
at="${SCHEDULE_AT:-03:17}"
if [ "${SCHEDULE_NOW:-0}" = 1 ]; then "$@" || echo "schedule.sh: $* failed" >&2; fi
while :; do
  now=$(date -u +%s)
  next=$(date -u -d "$(date -u +%F) $at" +%s)
  [ "$next" -gt "$now" ] || next=$((next + 86400))
  sleep $((next - now))
  "$@" || echo "schedule.sh: $* failed" >&2
done
