-- Operator resolutions of unknown orders (who, when, why), kept for audit: a record's own
-- columns are rewritten when a resolved order is placed again, this table is not.
CREATE TABLE order_resolutions (
    order_id TEXT NOT NULL,
    resolution TEXT NOT NULL,
    vendor_order_id TEXT,
    operator TEXT NOT NULL,
    reason TEXT NOT NULL,
    resolved_at TEXT NOT NULL
);
CREATE INDEX order_resolutions_by_order ON order_resolutions (order_id);
-- /orders/unknown pages by id (UUIDv7, creation order) within a state.
CREATE INDEX orders_by_state_id ON orders (state, id);
