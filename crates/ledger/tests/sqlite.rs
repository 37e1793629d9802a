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

/// A ledger file written before `order_events` was re-keyed (migration 0011) keeps its
/// events, read back in order and only by their client, after the table is rebuilt.
#[tokio::test]
async fn events_written_before_the_rekey_survive_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("before-0011.db");
    {
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        let mut m = sqlx::migrate!("./migrations/sqlite");
        let before: Vec<_> = m
            .migrations
            .iter()
            .filter(|x| x.version < 11)
            .cloned()
            .collect();
        assert_eq!(before.len(), 10);
        m.migrations = before.into();
        m.run(&pool).await.unwrap();
        sqlx::query("INSERT INTO orders (id, client, order_ref, idem_key, body_hash, route, connection, vendor, state, attempts, created_at, updated_at) VALUES ('o1', 'dev', 'r', 'r', 'h', 'r', 'c', 'v', 'accepted', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z')")
            .execute(&pool)
            .await
            .unwrap();
        // Inserted out of order: the read must still give them by seq.
        for (id, seq, kind) in [
            ("evt_b", 2, "order.status_changed"),
            ("evt_a", 1, "order.accepted"),
        ] {
            sqlx::query("INSERT INTO order_events (event_id, order_id, client, seq, kind, state, status, source, at) VALUES (?, 'o1', 'dev', ?, ?, 'accepted', 'accepted', 'create', '2026-01-01T00:00:01Z')")
                .bind(id)
                .bind(seq)
                .bind(kind)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }
    let l = ledger::open(
        &LedgerConfig::sqlite(path.display().to_string()),
        &|_: &str| None,
    )
    .await
    .unwrap();
    let events = l.events("dev", "o1").await.unwrap();
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event_id.as_str(), e.seq))
        .collect();
    assert_eq!(got, [("evt_a", 1), ("evt_b", 2)]);
    // Another client never reads them.
    assert!(l.events("other", "o1").await.unwrap().is_empty());
}
