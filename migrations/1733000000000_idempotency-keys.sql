-- Up Migration
-- Idempotency-Key of the creating mutations (src/graphql/idempotency.ts): one row per caller and
-- key, written in the same transaction as the write it protects, so a retry finds either nothing
-- (the first attempt rolled back) or the committed result.
CREATE TABLE idempotency_keys (
  caller text NOT NULL,
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  -- SHA-256 of the operation and its arguments: the same key with another payload is a conflict
  request_hash text NOT NULL,
  -- what the mutation returned the first time (set before commit)
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (caller, key)
);
-- the periodic cleanup deletes by expiry
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- Down Migration
DROP TABLE idempotency_keys;
