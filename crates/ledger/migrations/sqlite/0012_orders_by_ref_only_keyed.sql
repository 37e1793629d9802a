-- An order without an Idempotency-Key is keyed by its ref, so UNIQUE (client, idem_key)
-- already finds it by ref; orders_by_ref holds only orders whose key differs from their
-- ref. Both indexes are random-keyed (a new order lands on an arbitrary page of each), so
-- the common insert wrote two scattered index pages where one finds it.
DROP INDEX IF EXISTS orders_by_ref;
CREATE INDEX orders_by_ref ON orders (client, order_ref) WHERE idem_key <> order_ref;
