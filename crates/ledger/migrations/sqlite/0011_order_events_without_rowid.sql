-- order_events keyed by (order_id, seq) and stored WITHOUT ROWID: an event is inserted
-- (two or more per order, on the writer's critical path) into the key's b-tree itself,
-- where a rowid table wrote the row's table page and then one page of each of its two
-- key indexes. An order's events are read by that key, now a range of the table.
-- event_id stays unique (webhook deliveries and the API name events by it).
CREATE TABLE order_events_keyed (
    event_id TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL,
    client TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    status TEXT,
    source TEXT NOT NULL,
    vendor_status TEXT,
    vendor_order_id TEXT,
    tracking TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;
INSERT INTO order_events_keyed (event_id, order_id, client, seq, kind, state, status, source, vendor_status, vendor_order_id, tracking, at)
    SELECT event_id, order_id, client, seq, kind, state, status, source, vendor_status, vendor_order_id, tracking, at FROM order_events;
DROP TABLE order_events;
ALTER TABLE order_events_keyed RENAME TO order_events;
