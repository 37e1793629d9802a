-- orders_by_state (state, created_at) duplicated orders_by_state_id (state, id) for every
-- query: the in-flight scans (state IN ('received', 'sending')) cover a few rows either
-- way, pages go by (state, id), and counts by state read either index. Every state change
-- rewrote both, on the writer's critical path; one is kept.
DROP INDEX IF EXISTS orders_by_state;
