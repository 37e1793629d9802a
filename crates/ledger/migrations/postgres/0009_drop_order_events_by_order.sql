-- order_events_by_order (client, order_id, seq) duplicated the UNIQUE (order_id, seq)
-- index for both queries that read events (an order's events, and its next event
-- number): the order id alone finds them, and the client filter is checked on those few
-- rows. Every event insert (two or more per order, on the writer's critical path) wrote a
-- page of both.
DROP INDEX IF EXISTS order_events_by_order;
