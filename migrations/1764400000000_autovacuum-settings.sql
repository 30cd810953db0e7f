-- Up Migration
-- Autovacuum per table, reviewed for the example tables. PostgreSQL's defaults vacuum a table once
-- 20% of its rows are dead and analyze it once 10% changed: fine for `users` (small, rarely
-- updated), too late for the others.
--
-- posts: grows without bound and is read by author and date; at millions of rows, 20% is a lot of
-- bloat and 10% a long time with stale statistics. Vacuum at 5%, analyze at 2%.
ALTER TABLE posts SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02);
-- idempotency_keys: every row is deleted again when it expires (a queue-like churn); it stays
-- small, so a percentage never triggers early enough. Vacuum after 1 000 dead rows plus 2%, analyze
-- after 1 000 changes plus 5%, and without cost-based pauses (a small table: vacuum is quick).
ALTER TABLE idempotency_keys SET (
  autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_analyze_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.05,
  autovacuum_vacuum_cost_delay = 0
);

-- Down Migration
ALTER TABLE idempotency_keys RESET (autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor, autovacuum_analyze_threshold, autovacuum_analyze_scale_factor, autovacuum_vacuum_cost_delay);
ALTER TABLE posts RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor);
