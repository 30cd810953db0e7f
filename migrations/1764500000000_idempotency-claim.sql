-- Up Migration
-- Claims an Idempotency-Key (src/db/repositories/idempotency.ts): a fresh or expired key becomes
-- the caller's; a live one raises SQLSTATE BIK01, which aborts the transaction, so that the write
-- sent in the same round trip after the claim does not run. A concurrent claim of the same key
-- waits on the row's unique index until the first attempt commits (taken) or rolls back (free).
CREATE FUNCTION idempotency_claim (p_caller text, p_key text, p_request_hash text, p_ttl_hours int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO idempotency_keys AS k (caller, key, request_hash, expires_at)
  VALUES (p_caller, p_key, p_request_hash, now() + make_interval(hours => p_ttl_hours))
  ON CONFLICT (caller, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, result = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
    WHERE k.expires_at <= now();
  IF NOT FOUND THEN
    RAISE EXCEPTION 'idempotency key in use' USING ERRCODE = 'BIK01';
  END IF;
END
$$;

-- Down Migration
DROP FUNCTION idempotency_claim (text, text, text, int);
