-- Webhook endpoints a receiver declared gone (it answered 410): the client's deliveries
-- are held (left pending, not claimed) until an operator redelivers or the client's
-- webhook URL changes in the config. A row per client, in the ledger so that a restart
-- and every replica see it.
CREATE TABLE webhook_endpoints (
    client TEXT PRIMARY KEY,
    -- SHA-256 (hex) of the URL that answered 410: another URL in the config re-enables.
    url_sha256 TEXT NOT NULL,
    disabled_at TEXT NOT NULL,
    reason TEXT NOT NULL
);
-- The process that claimed a delivery: a claim of a process without a live replica lease
-- (killed, or stopped) is taken over at once, not when `lease_until` runs out.
ALTER TABLE webhook_outbox ADD COLUMN lease_holder TEXT;
