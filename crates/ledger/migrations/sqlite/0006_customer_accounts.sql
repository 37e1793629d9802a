-- The accounts a vendor created for a customer (an Impilo inline new patient), remembered on
-- routes that opt in (`rememberCreatedAccounts`) so the customer's later orders with the
-- same details reuse the account instead of creating another. `fingerprint` is a SHA-256
-- over the client, connection and the order's customer and shipTo objects: the details
-- themselves (names, addresses) are not stored.
CREATE TABLE customer_accounts (
    client TEXT NOT NULL,
    connection TEXT NOT NULL,
    customer_ref TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    vendor_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (client, connection, customer_ref, fingerprint)
);
