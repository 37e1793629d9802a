-- Reconciliation data the gateway may store (opaque to the ledger) and the reason of the
-- last transition to `unknown`.
ALTER TABLE orders ADD COLUMN replay_token TEXT;
ALTER TABLE orders ADD COLUMN lookup TEXT;
ALTER TABLE orders ADD COLUMN note TEXT;
DROP INDEX IF EXISTS orders_by_state;
CREATE INDEX orders_by_state ON orders (state, created_at);
