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

every_suite_test!(store);

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
