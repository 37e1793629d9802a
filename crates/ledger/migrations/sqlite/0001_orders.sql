-- The first schema (created before migrations were tracked, hence IF NOT EXISTS: a ledger
-- file from that time is adopted as is).
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    order_ref TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    route TEXT NOT NULL,
    connection TEXT NOT NULL,
    vendor TEXT NOT NULL,
    state TEXT NOT NULL,
    vendor_order_id TEXT,
    vendor_status TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    response TEXT,
    never_sent INTEGER NOT NULL DEFAULT 0,
    trace_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (client, idem_key)
);
CREATE INDEX IF NOT EXISTS orders_by_ref ON orders (client, order_ref);
CREATE INDEX IF NOT EXISTS orders_by_state ON orders (state);
