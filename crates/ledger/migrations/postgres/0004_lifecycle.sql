-- Order lifecycle: every outcome transition of a record is an event (its history, read by
-- GET /v1/orders/{id} and /events), and an event for a client with a webhook is also a
-- webhook outbox row. Both are written in the transaction that changes the record, so a
-- committed state change always has its event and its pending delivery (and neither
-- exists without the change).
CREATE TABLE order_events (
    event_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    client TEXT NOT NULL,
    -- 1, 2, ... per order: the order of the record's transitions (and of its deliveries).
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    status TEXT,
    source TEXT NOT NULL,
    vendor_status TEXT,
    vendor_order_id TEXT,
    tracking TEXT,
    at TEXT NOT NULL,
    UNIQUE (order_id, seq)
);
-- The events of one client's order, in order.
CREATE INDEX order_events_by_order ON order_events (client, order_id, seq);

CREATE TABLE webhook_outbox (
    event_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    client TEXT NOT NULL,
    seq BIGINT NOT NULL,
    -- The JSON body sent, fixed when the event is written (the signature covers it).
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    -- A replica that claimed the row owns it until then (then another may take it over).
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    -- The delivery window counts from here: the event's time, or its redelivery's.
    window_start TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_at);
CREATE INDEX webhook_outbox_by_order ON webhook_outbox (order_id, seq);
