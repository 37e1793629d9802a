-- Same columns and meaning as the SQLite schema (migrations/sqlite/0001 + 0002).
-- `response` and `lookup` are JSON *text*, not jsonb: a replay must return the stored
-- answer byte for byte, and jsonb reorders keys.
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    order_ref TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    route TEXT NOT NULL,
    connection TEXT NOT NULL,
    vendor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('received', 'sending', 'accepted', 'rejected', 'failed', 'unknown')),
    vendor_order_id TEXT,
    vendor_status TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    http_status INTEGER,
    response TEXT,
    never_sent BOOLEAN NOT NULL DEFAULT FALSE,
    trace_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    replay_token TEXT,
    lookup TEXT,
    note TEXT,
    UNIQUE (client, idem_key)
);
CREATE INDEX IF NOT EXISTS orders_by_ref ON orders (client, order_ref);
CREATE INDEX IF NOT EXISTS orders_by_state ON orders (state, created_at);
