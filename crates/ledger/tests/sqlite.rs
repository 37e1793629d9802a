#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The ledger's idempotency and crash-safety rules on a real SQLite file.

use std::sync::Arc;

use ledger::{Begin, Finish, LedgerConfig, NewRecord, RecordState};
use serde_json::json;

async fn open(dir: &tempfile::TempDir) -> Arc<ledger::Ledger> {
    let cfg = LedgerConfig::Sqlite {
        path: dir.path().join("nested/ledger.db").display().to_string(),
    };
    Arc::new(ledger::open(&cfg, &|_: &str| None).await.unwrap())
}

fn new(id: &str, key: &str, hash: &str) -> NewRecord {
    NewRecord {
        id: id.into(),
        client: "dev".into(),
        order_ref: key.into(),
        idem_key: key.into(),
        body_hash: hash.into(),
        route: "r".into(),
        connection: "c".into(),
        vendor: "v".into(),
        trace_id: Some("t".into()),
    }
}

fn done(state: RecordState, never_sent: bool) -> Finish {
    Finish {
        state,
        http_status: 201,
        response: json!({"id": "x", "ok": true}),
        vendor_order_id: Some("V1".into()),
        vendor_status: Some("CREATED".into()),
        never_sent,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_begins_start_exactly_one() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(&dir).await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let l = l.clone();
            tokio::spawn(async move {
                l.begin(new(&format!("id-{i}"), "ref-1", "h1"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut started = 0;
    for t in tasks {
        match t.await.unwrap() {
            Begin::Started(_) => started += 1,
            Begin::InProgress(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(started, 1);
}

#[tokio::test]
async fn replay_conflict_and_terminal_records_hold() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(&dir).await;
    let Begin::Started(rec) = l.begin(new("a", "ref-1", "h1")).await.unwrap() else {
        panic!()
    };
    assert_eq!(
        rec.state,
        RecordState::Sending,
        "recorded before the call, as sending"
    );
    assert_eq!(
        l.get("dev", "a").await.unwrap().unwrap(),
        rec,
        "the returned record is the stored one"
    );
    assert!(matches!(
        l.begin(new("b", "ref-1", "h1")).await.unwrap(),
        Begin::InProgress(_)
    ));
    assert!(
        l.finish("a", done(RecordState::Accepted, false))
            .await
            .unwrap()
    );
    // A late writer cannot overwrite a terminal record.
    assert!(
        !l.finish("a", done(RecordState::Failed, true))
            .await
            .unwrap()
    );
    match l.begin(new("c", "ref-1", "h1")).await.unwrap() {
        Begin::Replay(r) => {
            assert_eq!(r.id, "a");
            assert_eq!(r.http_status, Some(201));
            assert_eq!(r.response, Some(json!({"id": "x", "ok": true})));
            assert_eq!(r.attempts, 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        l.begin(new("d", "ref-1", "other-hash")).await.unwrap(),
        Begin::Conflict(_)
    ));
    // Another client may use the same ref.
    let mut other = new("e", "ref-1", "h1");
    other.client = "other".into();
    assert!(matches!(l.begin(other).await.unwrap(), Begin::Started(_)));
    // A client sees only its own orders.
    assert!(l.get("other", "a").await.unwrap().is_none());
    assert!(l.get("dev", "a").await.unwrap().is_some());
    assert_eq!(
        l.find_by_ref("dev", "ref-1").await.unwrap().unwrap().id,
        "a"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_sent_failure_is_re_armed_for_exactly_one_retry() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(&dir).await;
    l.begin(new("a", "ref-1", "h1")).await.unwrap();
    l.mark_sending("a").await.unwrap();
    l.finish("a", done(RecordState::Failed, true))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let l = l.clone();
            tokio::spawn(
                async move { l.begin(new(&format!("r{i}"), "ref-1", "h1")).await.unwrap() },
            )
        })
        .collect();
    let mut retries = 0;
    for t in tasks {
        match t.await.unwrap() {
            Begin::Retry(r) => {
                assert_eq!(r.id, "a");
                assert_eq!(r.state, RecordState::Sending);
                assert_eq!(r.attempts, 2);
                retries += 1;
            }
            Begin::InProgress(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(retries, 1);
    // A failure that may have reached the vendor is replayed, not retried.
    l.mark_sending("a").await.unwrap();
    l.finish("a", done(RecordState::Failed, false))
        .await
        .unwrap();
    assert!(matches!(
        l.begin(new("z", "ref-1", "h1")).await.unwrap(),
        Begin::Replay(_)
    ));
}

#[tokio::test]
async fn records_in_flight_at_a_crash_become_unknown_and_are_never_resent() {
    let dir = tempfile::tempdir().unwrap();
    {
        let l = open(&dir).await;
        l.begin(new("a", "ref-a", "h")).await.unwrap();
        l.begin(new("b", "ref-b", "h")).await.unwrap();
        l.mark_sending("b").await.unwrap();
        l.begin(new("c", "ref-c", "h")).await.unwrap();
        l.mark_sending("c").await.unwrap();
        l.finish("c", done(RecordState::Accepted, false))
            .await
            .unwrap();
    }
    let l = open(&dir).await;
    assert_eq!(l.recover_on_start().await.unwrap(), 2);
    assert_eq!(
        l.list_by_state(RecordState::Unknown, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(matches!(
        l.begin(new("x", "ref-b", "h")).await.unwrap(),
        Begin::Unknown(_)
    ));
    assert!(matches!(
        l.begin(new("y", "ref-c", "h")).await.unwrap(),
        Begin::Replay(_)
    ));
    // A reconciler may still resolve an unknown record.
    assert!(
        l.finish("b", done(RecordState::Accepted, false))
            .await
            .unwrap()
    );
}

#[test]
fn postgres_config_references_its_url_secret() {
    let cfg: LedgerConfig =
        serde_json::from_value(json!({"kind": "postgres", "url": "${LEDGER_DATABASE_URL}"}))
            .unwrap();
    assert_eq!(
        cfg.secret_refs(),
        vec![Some("LEDGER_DATABASE_URL".to_owned())]
    );
}
