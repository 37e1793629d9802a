-- Which serving process holds an in-flight record, and until when each process's lease
-- runs. A replica renews its lease every few seconds; one that stops (kill -9, a lost
-- node, a partition) has its in-flight records marked `unknown` by the others within
-- seconds of the expiry, instead of after the longest vendor deadline plus a margin.
-- NULL holder: a record written before this migration (the age rule still covers it).
ALTER TABLE orders ADD COLUMN holder TEXT;
CREATE TABLE replica_leases (
    holder TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
