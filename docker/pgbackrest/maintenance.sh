#!/bin/sh
# Database maintenance as the owner role (the application role may not vacuum or reindex tables
# it does not own). MAINTENANCE_DATABASE_URL: the owner's URL (MIGRATION_DATABASE_URL).
#   maintenance.sh vacuum    weekly: VACUUM every table, then fresh statistics in stages
#   maintenance.sh reindex   monthly: rebuild every index without blocking writes
#   maintenance.sh auto      what today calls for: vacuum on Sundays, and reindex on the first one
# Neither blocks the application: plain VACUUM and ANALYZE take only SHARE UPDATE EXCLUSIVE locks,
# REINDEX CONCURRENTLY builds each new index beside the old one (it needs that much disk free).
set -eu
url="${MAINTENANCE_DATABASE_URL:?set MAINTENANCE_DATABASE_URL to the owner role URL}"
case "${1:-}" in
  vacuum)
    # autovacuum does most of this; the weekly pass catches tables it skipped. --skip-locked
    # passes over a table someone holds exclusively instead of queueing behind it.
    vacuumdb --dbname="$url" --skip-locked --jobs=2
    # statistics: a coarse pass first (usable plans at once), then the full statistics target
    vacuumdb --dbname="$url" --analyze-in-stages
    ;;
  reindex)
    # system catalogs cannot be reindexed concurrently: the application's schema only
    reindexdb --dbname="$url" --concurrently --schema=public
    ;;
  auto)
    if [ "$(date -u +%u)" = 7 ]; then
      "$0" vacuum
      if [ "$(date -u +%d)" -le 7 ]; then "$0" reindex; fi
    fi
    ;;
  *) echo "usage: maintenance.sh vacuum|reindex|auto" >&2; exit 2 ;;
esac
echo "maintenance.sh: $1 done"
