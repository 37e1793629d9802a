-- Status sync: the canonical status and tracking the vendor last reported (the create's
-- answer at first, then each read), and the schedule of the next read. `lookup` (0002)
-- holds the ids a read needs. A row with sync_next_at set is followed until it reaches a
-- final status or sync_until; sync_lease_until keeps a claimed row to one replica.
ALTER TABLE orders ADD COLUMN status TEXT;
ALTER TABLE orders ADD COLUMN tracking TEXT;
ALTER TABLE orders ADD COLUMN sync_next_at TEXT;
ALTER TABLE orders ADD COLUMN sync_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN sync_until TEXT;
ALTER TABLE orders ADD COLUMN sync_lease_until TEXT;
CREATE INDEX orders_sync_due ON orders (sync_next_at) WHERE sync_next_at IS NOT NULL;
