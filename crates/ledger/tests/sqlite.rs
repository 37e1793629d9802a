#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The ledger suite on a real SQLite file (a temp dir per test).

mod suite;

use ledger::LedgerConfig;
use suite::Store;

async fn store() -> Option<Store> {
    let dir = tempfile::tempdir().unwrap();
    Some(Store {
        // A nested path: the parent directory is created on first start.
        cfg: LedgerConfig::sqlite(
            dir.path()
                .join("nested/dir/ledger.db")
                .display()
                .to_string(),
        ),
        env: Vec::new(),
        _keep: Some(dir),
    })
}

suite_tests!(store;
    concurrent_begins_start_exactly_one,
    begin_records_received_then_sending,
    conflict_on_different_hash,
    replay_returns_the_stored_answer_byte_for_byte,
    terminal_records_cannot_be_overwritten,
    unknown_records_wait_for_the_reconciler,
    recover_on_start_moves_in_flight_records_to_unknown,
    concurrent_retries_re_arm_exactly_once,
    clients_are_isolated,
    reconcile_info_and_input_checks,
    an_operator_links_a_vendor_order_to_an_unknown_record_only,
    queued_writes_commit_together,
    a_failing_write_fails_no_other_write_in_its_batch,
    a_failed_commit_fails_every_caller_in_its_batch,
    an_expired_lease_makes_its_holders_in_flight_records_unknown,
    created_accounts_are_remembered_per_key,
    transitions_write_events_and_outbox_rows,
    a_failed_transition_stores_no_event,
    webhook_deliveries_are_claimed_once_and_in_order,
    a_gone_claimers_deliveries_are_taken_over_at_once,
    a_gone_endpoint_holds_its_clients_deliveries_until_enabled,
    status_sync_claims_due_orders_once_and_records_changes,
    two_replicas_claim_each_followed_order_once,
);

/// A ledger file written by the first (untracked) schema is adopted and migrated.
#[tokio::test]
async fn a_ledger_file_from_before_migrations_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect_with(
            &sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        sqlx::raw_sql(include_str!("../migrations/sqlite/0001_orders.sql"))
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("INSERT INTO orders (id, client, order_ref, idem_key, body_hash, route, connection, vendor, state, attempts, created_at, updated_at) VALUES ('old', 'dev', 'r', 'r', 'h', 'r', 'c', 'v', 'sending', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')")
            .execute(&mut c)
            .await
            .unwrap();
    }
    let l = ledger::open(
        &LedgerConfig::sqlite(path.display().to_string()),
        &|_: &str| None,
    )
    .await
    .unwrap();
    assert_eq!(l.recover_on_start().await.unwrap(), 1);
    let r = l.get("dev", "old").await.unwrap().unwrap();
    assert_eq!(r.state, ledger::RecordState::Unknown);
    assert!(r.replay_token.is_none());
}
