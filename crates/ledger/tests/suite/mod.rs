//! The ledger's rules, written once and run against every store (`tests/sqlite.rs`,
//! `tests/postgres.rs`). Each function gets a fresh, empty store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::sync::Arc;
use std::time::Duration;

use ledger::{Begin, Finish, Ledger, LedgerConfig, LedgerError, NewRecord, RecordState};
use serde_json::{Value, json};

/// A fresh store: its config, and whatever keeps it alive (a temp dir).
pub struct Store {
    pub cfg: LedgerConfig,
    pub env: Vec<(String, String)>,
    pub _keep: Option<tempfile::TempDir>,
}

impl Store {
    pub async fn open(&self) -> Arc<Ledger> {
        let env = self.env.clone();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        Arc::new(ledger::open(&self.cfg, &lookup).await.expect("open ledger"))
    }
}

pub fn hash(s: &str) -> String {
    ledger::sha256_hex(s.as_bytes())
}

pub fn new(id: &str, key: &str, body: &str) -> NewRecord {
    NewRecord {
        id: id.into(),
        client: "dev".into(),
        order_ref: key.into(),
        idem_key: key.into(),
        body_hash: hash(body),
        route: "r".into(),
        connection: "c".into(),
        vendor: "v".into(),
        trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
    }
}

pub fn done(state: RecordState, never_sent: bool) -> Finish {
    Finish {
        state,
        http_status: 201,
        response: json!({"id": "x", "ok": true}),
        vendor_order_id: Some("V1".into()),
        vendor_status: Some("CREATED".into()),
        never_sent,
        sync: None,
    }
}

fn started(b: Begin) -> ledger::Record {
    match b {
        Begin::Started(r) => r,
        other => panic!("expected Started, got {other:?}"),
    }
}

/// 200 concurrent `begin`s of one key and body: exactly one `Started`, the rest
/// `InProgress`; once finished, 200 more are all `Replay` of the one record.
pub async fn concurrent_begins_start_exactly_one(store: &Store) {
    let l = store.open().await;
    let run = |prefix: &'static str| {
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let l = l.clone();
                tokio::spawn(async move {
                    l.begin(new(&format!("{prefix}-{i}"), "ref-1", "body"))
                        .await
                        .unwrap()
                })
            })
            .collect();
        async move {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        }
    };
    let results = run("a").await;
    let winners: Vec<_> = results
        .iter()
        .filter_map(|b| match b {
            Begin::Started(r) => Some(r.id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "exactly one Started");
    for b in &results {
        match b {
            Begin::Started(_) => {}
            Begin::InProgress(r) => assert_eq!(r.id, winners[0]),
            other => panic!("{other:?}"),
        }
    }
    assert!(l.mark_sending(&winners[0]).await.unwrap());
    assert!(
        l.finish(&winners[0], done(RecordState::Accepted, false))
            .await
            .unwrap()
    );
    for b in run("b").await {
        match b {
            Begin::Replay(r) => assert_eq!(r.id, winners[0]),
            other => panic!("{other:?}"),
        }
    }
    let counts = l.count_by_state().await.unwrap();
    assert!(counts.contains(&(RecordState::Accepted, 1)));
    assert_eq!(
        counts.iter().map(|c| c.1).sum::<u64>(),
        1,
        "one record in all"
    );
}

/// `begin` records `received` (0 attempts) and returns what it stored; `mark_sending`
/// moves it to `sending` once.
pub async fn begin_records_received_then_sending(store: &Store) {
    let l = store.open().await;
    let rec = started(l.begin(new("a", "ref-1", "body")).await.unwrap());
    assert_eq!(rec.state, RecordState::Received);
    assert_eq!(rec.attempts, 0);
    assert_eq!(rec.body_hash, hash("body"));
    assert!(
        rec.created_at.ends_with('Z') && rec.created_at.len() == 27,
        "{}",
        rec.created_at
    );
    assert_eq!(
        l.get("dev", "a").await.unwrap().unwrap(),
        rec,
        "returned = stored"
    );
    assert!(matches!(
        l.begin(new("b", "ref-1", "body")).await.unwrap(),
        Begin::InProgress(_)
    ));
    assert!(l.mark_sending("a").await.unwrap());
    assert!(!l.mark_sending("a").await.unwrap(), "only from received");
    let rec = l.get("dev", "a").await.unwrap().unwrap();
    assert_eq!((rec.state, rec.attempts), (RecordState::Sending, 1));
    assert!(matches!(
        l.begin(new("c", "ref-1", "body")).await.unwrap(),
        Begin::InProgress(_)
    ));
    // begin_sending: the same claim, recorded as sending with one attempt.
    let rec = started(l.begin_sending(new("d", "ref-2", "body")).await.unwrap());
    assert_eq!((rec.state, rec.attempts), (RecordState::Sending, 1));
    assert_eq!(l.get("dev", "d").await.unwrap().unwrap(), rec);
}

/// Same key, another body: `Conflict`, whatever the state, and nothing changes.
pub async fn conflict_on_different_hash(store: &Store) {
    let l = store.open().await;
    started(l.begin(new("a", "ref-1", "body")).await.unwrap());
    let before = l.get("dev", "a").await.unwrap().unwrap();
    match l.begin(new("b", "ref-1", "other body")).await.unwrap() {
        Begin::Conflict(r) => assert_eq!(r.id, "a"),
        other => panic!("{other:?}"),
    }
    l.finish("a", done(RecordState::Accepted, false))
        .await
        .unwrap();
    assert!(matches!(
        l.begin(new("c", "ref-1", "other body")).await.unwrap(),
        Begin::Conflict(_)
    ));
    assert!(
        l.get("dev", "b").await.unwrap().is_none(),
        "no second record"
    );
    assert_eq!(
        l.get("dev", "a").await.unwrap().unwrap().body_hash,
        before.body_hash
    );
}

/// The stored answer comes back byte for byte, key order and all.
pub async fn replay_returns_the_stored_answer_byte_for_byte(store: &Store) {
    let l = store.open().await;
    let text = r#"{"zeta":1,"alpha":{"y":[3,1,2],"b":"é \"q\" \u2028"},"amount":"10.50","n":null,"id":"ord_1"}"#;
    let answer: Value = serde_json::from_str(text).unwrap();
    let expected = serde_json::to_string(&answer).unwrap();
    started(l.begin(new("a", "ref-1", "body")).await.unwrap());
    l.mark_sending("a").await.unwrap();
    let f = Finish {
        state: RecordState::Rejected,
        http_status: 422,
        response: answer.clone(),
        vendor_order_id: None,
        vendor_status: Some("INVALID_SKU".into()),
        never_sent: false,
        sync: None,
    };
    assert!(l.finish("a", f).await.unwrap());
    for i in 0..3 {
        match l
            .begin(new(&format!("r{i}"), "ref-1", "body"))
            .await
            .unwrap()
        {
            Begin::Replay(r) => {
                assert_eq!(r.id, "a");
                assert_eq!(r.answer(), Some((422, expected.as_str())));
                assert_eq!(r.response.as_ref(), Some(&answer));
                assert_eq!(
                    serde_json::to_string(r.response.as_ref().unwrap()).unwrap(),
                    expected
                );
                assert_eq!(r.vendor_status.as_deref(), Some("INVALID_SKU"));
                assert_eq!(r.attempts, 1);
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A late writer never overwrites a terminal record.
pub async fn terminal_records_cannot_be_overwritten(store: &Store) {
    let l = store.open().await;
    for (id, key, terminal) in [
        ("a", "k-a", RecordState::Accepted),
        ("b", "k-b", RecordState::Rejected),
        ("c", "k-c", RecordState::Failed),
    ] {
        started(l.begin(new(id, key, "body")).await.unwrap());
        l.mark_sending(id).await.unwrap();
        assert!(l.finish(id, done(terminal, false)).await.unwrap());
        let before = l.get("dev", id).await.unwrap().unwrap();
        let mut late = done(RecordState::Accepted, true);
        late.response = json!({"late": true});
        late.http_status = 500;
        for s in [
            RecordState::Accepted,
            RecordState::Rejected,
            RecordState::Failed,
            RecordState::Unknown,
        ] {
            late.state = s;
            assert!(
                !l.finish(id, late.clone()).await.unwrap(),
                "{terminal} overwritten by {s}"
            );
        }
        late.state = RecordState::Accepted;
        assert!(!l.resolve_unknown(id, late.clone()).await.unwrap());
        assert!(!l.set_unknown(id, "late timeout").await.unwrap());
        assert!(!l.mark_sending(id).await.unwrap());
        assert_eq!(l.recover_on_start().await.unwrap(), 0);
        assert_eq!(
            l.get("dev", id).await.unwrap().unwrap(),
            before,
            "{terminal} changed"
        );
    }
    // Non-outcome states are refused.
    for s in [RecordState::Received, RecordState::Sending] {
        let mut f = done(RecordState::Accepted, false);
        f.state = s;
        assert!(matches!(
            l.finish("a", f).await,
            Err(LedgerError::Invalid(_))
        ));
    }
}

/// `unknown` is never re-sent: `begin` answers `Unknown`; only a reconciler (or the process
/// that made the call) resolves it.
pub async fn unknown_records_wait_for_the_reconciler(store: &Store) {
    let l = store.open().await;
    started(l.begin(new("a", "ref-a", "body")).await.unwrap());
    l.mark_sending("a").await.unwrap();
    assert!(
        l.set_unknown("a", "vendor timeout after sending")
            .await
            .unwrap()
    );
    assert!(!l.set_unknown("a", "again").await.unwrap());
    match l.begin(new("x", "ref-a", "body")).await.unwrap() {
        Begin::Unknown(r) => {
            assert_eq!(r.id, "a");
            assert_eq!(r.note.as_deref(), Some("vendor timeout after sending"));
        }
        other => panic!("{other:?}"),
    }
    // A finish with state unknown (the gateway's timeout path) works like set_unknown.
    started(l.begin(new("b", "ref-b", "body")).await.unwrap());
    l.mark_sending("b").await.unwrap();
    assert!(
        l.finish("b", done(RecordState::Unknown, false))
            .await
            .unwrap()
    );
    assert!(
        !l.finish("b", done(RecordState::Unknown, false))
            .await
            .unwrap()
    );
    let unknown: Vec<_> = l
        .list_unknown(10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(unknown, vec!["a", "b"], "oldest first");
    assert_eq!(l.list_unknown(1).await.unwrap().len(), 1);
    // The reconciler found it at the vendor.
    let mut f = done(RecordState::Unknown, false);
    assert!(matches!(
        l.resolve_unknown("a", f.clone()).await,
        Err(LedgerError::Invalid(_))
    ));
    f.state = RecordState::Accepted;
    assert!(l.resolve_unknown("a", f.clone()).await.unwrap());
    assert!(!l.resolve_unknown("a", f.clone()).await.unwrap(), "once");
    assert!(matches!(
        l.begin(new("y", "ref-a", "body")).await.unwrap(),
        Begin::Replay(_)
    ));
    // The caller that made the call may still record the truth over `unknown`.
    assert!(
        l.finish("b", done(RecordState::Rejected, false))
            .await
            .unwrap()
    );
    assert_eq!(
        l.get("dev", "b").await.unwrap().unwrap().state,
        RecordState::Rejected
    );
    assert!(l.list_unknown(10).await.unwrap().is_empty());
    // resolve_unknown touches only unknown records.
    started(l.begin(new("c", "ref-c", "body")).await.unwrap());
    assert!(!l.resolve_unknown("c", f).await.unwrap());
}

/// An operator may link the vendor's order id to an `unknown` record only; it changes
/// nothing else, so the record still waits for its caller's retry.
pub async fn an_operator_links_a_vendor_order_to_an_unknown_record_only(store: &Store) {
    let l = store.open().await;
    started(l.begin(new("a", "ref-a", "body")).await.unwrap());
    assert!(
        !l.link_vendor_order("a", "V-1").await.unwrap(),
        "not while it is received"
    );
    l.mark_sending("a").await.unwrap();
    assert!(
        !l.link_vendor_order("a", "V-1").await.unwrap(),
        "nor sending"
    );
    assert!(
        l.set_unknown("a", "vendor timeout after sending")
            .await
            .unwrap()
    );
    assert!(!l.link_vendor_order("missing", "V-1").await.unwrap());
    assert!(matches!(
        l.link_vendor_order("a", "").await,
        Err(LedgerError::Invalid(_))
    ));
    assert!(l.link_vendor_order("a", "V-1").await.unwrap());
    let r = l.get("dev", "a").await.unwrap().unwrap();
    assert_eq!(r.state, RecordState::Unknown);
    assert_eq!(r.vendor_order_id.as_deref(), Some("V-1"));
    assert!(matches!(
        l.begin(new("x", "ref-a", "body")).await.unwrap(),
        Begin::Unknown(_)
    ));
    let mut f = done(RecordState::Accepted, false);
    f.vendor_order_id = Some("V-1".into());
    assert!(l.resolve_unknown("a", f).await.unwrap());
    assert!(
        !l.link_vendor_order("a", "V-2").await.unwrap(),
        "a settled record keeps its vendor order"
    );
    assert_eq!(
        l.get("dev", "a")
            .await
            .unwrap()
            .unwrap()
            .vendor_order_id
            .as_deref(),
        Some("V-1")
    );
}

/// Records in flight at a crash become `unknown` on the next start, never silence and
/// never re-sent.
pub async fn recover_on_start_moves_in_flight_records_to_unknown(store: &Store) {
    {
        let l = store.open().await;
        started(l.begin(new("a", "ref-a", "body")).await.unwrap());
        started(l.begin(new("b", "ref-b", "body")).await.unwrap());
        l.mark_sending("b").await.unwrap();
        started(l.begin(new("c", "ref-c", "body")).await.unwrap());
        l.mark_sending("c").await.unwrap();
        l.finish("c", done(RecordState::Accepted, false))
            .await
            .unwrap();
        // A live process's in-flight records are not "stale" yet.
        assert_eq!(l.recover_stale(Duration::from_secs(3600)).await.unwrap(), 0);
        l.close().await;
    }
    let l = store.open().await;
    assert_eq!(l.recover_on_start().await.unwrap(), 2);
    assert_eq!(l.recover_on_start().await.unwrap(), 0);
    let counts = l.count_by_state().await.unwrap();
    assert_eq!(
        counts,
        vec![
            (RecordState::Received, 0),
            (RecordState::Sending, 0),
            (RecordState::Accepted, 1),
            (RecordState::Rejected, 0),
            (RecordState::Failed, 0),
            (RecordState::Unknown, 2),
        ]
    );
    for (state, n) in counts {
        assert_eq!(l.count_in_state(state).await.unwrap(), n, "{state:?}");
    }
    for key in ["ref-a", "ref-b"] {
        match l.begin(new("x", key, "body")).await.unwrap() {
            Begin::Unknown(r) => assert!(r.note.is_some()),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        l.begin(new("y", "ref-c", "body")).await.unwrap(),
        Begin::Replay(_)
    ));
    // recover_stale with a zero age takes everything in flight.
    started(l.begin(new("d", "ref-d", "body")).await.unwrap());
    assert_eq!(l.recover_stale(Duration::ZERO).await.unwrap(), 1);
}

/// A `failed` + `never_sent` record is re-armed for exactly one of many concurrent retries.
pub async fn concurrent_retries_re_arm_exactly_once(store: &Store) {
    let l = store.open().await;
    started(l.begin(new("a", "ref-1", "body")).await.unwrap());
    l.mark_sending("a").await.unwrap();
    assert!(
        l.finish("a", done(RecordState::Failed, true))
            .await
            .unwrap()
    );
    assert!(l.get("dev", "a").await.unwrap().unwrap().never_sent);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let l = l.clone();
            tokio::spawn(async move {
                l.begin(new(&format!("r{i}"), "ref-1", "body"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut retries = 0;
    for t in tasks {
        match t.await.unwrap() {
            Begin::Retry(r) => {
                assert_eq!(r.id, "a");
                assert_eq!(r.state, RecordState::Received);
                assert_eq!(r.attempts, 1, "attempts kept");
                assert!(!r.never_sent);
                assert!(r.response.is_none(), "the old answer is not replayed");
                retries += 1;
            }
            Begin::InProgress(r) => assert_eq!(r.id, "a"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(retries, 1);
    assert!(l.mark_sending("a").await.unwrap());
    assert_eq!(l.get("dev", "a").await.unwrap().unwrap().attempts, 2);
    // A failure that may have reached the vendor is replayed, not retried.
    assert!(
        l.finish("a", done(RecordState::Failed, false))
            .await
            .unwrap()
    );
    assert!(matches!(
        l.begin(new("z", "ref-1", "body")).await.unwrap(),
        Begin::Replay(_)
    ));
    // never_sent is kept only with failed.
    started(l.begin(new("b", "ref-2", "body")).await.unwrap());
    assert!(
        l.finish("b", done(RecordState::Rejected, true))
            .await
            .unwrap()
    );
    assert!(matches!(
        l.begin(new("y", "ref-2", "body")).await.unwrap(),
        Begin::Replay(_)
    ));
    // begin_sending re-arms straight to sending with one more attempt.
    started(l.begin(new("c", "ref-3", "body")).await.unwrap());
    l.mark_sending("c").await.unwrap();
    l.finish("c", done(RecordState::Failed, true))
        .await
        .unwrap();
    match l.begin_sending(new("w", "ref-3", "body")).await.unwrap() {
        Begin::Retry(r) => assert_eq!((r.state, r.attempts), (RecordState::Sending, 2)),
        other => panic!("{other:?}"),
    }
}

/// A client sees only its own records; keys are per client.
pub async fn clients_are_isolated(store: &Store) {
    let l = store.open().await;
    started(l.begin(new("a", "ref-1", "body")).await.unwrap());
    let mut other = new("e", "ref-1", "body");
    other.client = "other".into();
    started(l.begin(other).await.unwrap());
    assert!(l.get("other", "a").await.unwrap().is_none());
    assert_eq!(l.get("dev", "a").await.unwrap().unwrap().client, "dev");
    assert_eq!(
        l.find_by_ref("dev", "ref-1").await.unwrap().unwrap().id,
        "a"
    );
    assert_eq!(
        l.find_by_ref("other", "ref-1").await.unwrap().unwrap().id,
        "e"
    );
    assert!(l.find_by_ref("third", "ref-1").await.unwrap().is_none());
    assert_eq!(
        l.find_by_key("other", "ref-1").await.unwrap().unwrap().id,
        "e"
    );
    // An Idempotency-Key other than the orderRef: find_by_ref finds the newest.
    let mut second = new("f", "key-2", "body2");
    second.order_ref = "ref-1".into();
    started(l.begin(second).await.unwrap());
    assert_eq!(
        l.find_by_ref("dev", "ref-1").await.unwrap().unwrap().id,
        "f"
    );
    // And the other way round: a keyed order, then one keyed by its ref (found through
    // the key's index, not `orders_by_ref`, which holds only keyed orders).
    let mut keyed = new("g", "key-9", "body");
    keyed.order_ref = "ref-9".into();
    started(l.begin(keyed).await.unwrap());
    assert_eq!(
        l.find_by_ref("dev", "ref-9").await.unwrap().unwrap().id,
        "g"
    );
    started(l.begin(new("h", "ref-9", "body")).await.unwrap());
    assert_eq!(
        l.find_by_ref("dev", "ref-9").await.unwrap().unwrap().id,
        "h"
    );
    assert!(l.find_by_ref("other", "ref-9").await.unwrap().is_none());
}

/// Opaque reconciliation data round-trips; bad input is refused and changes nothing.
pub async fn reconcile_info_and_input_checks(store: &Store) {
    let l = store.open().await;
    started(l.begin(new("a", "ref-1", "body")).await.unwrap());
    let lookup = json!({"customerId": "C-9", "deploymentId": 12});
    assert!(
        l.set_reconcile_info("a", Some("corr-123"), Some(&lookup))
            .await
            .unwrap()
    );
    assert!(!l.set_reconcile_info("missing", None, None).await.unwrap());
    let r = l.get("dev", "a").await.unwrap().unwrap();
    assert_eq!(r.replay_token.as_deref(), Some("corr-123"));
    assert_eq!(r.lookup, Some(lookup));
    let mut bad = new("b", "ref-2", "body");
    bad.body_hash = "not-a-hash".into();
    assert!(matches!(l.begin(bad).await, Err(LedgerError::Invalid(_))));
    let mut bad = new("b", "", "body");
    bad.idem_key = String::new();
    assert!(matches!(l.begin(bad).await, Err(LedgerError::Invalid(_))));
    assert!(l.get("dev", "b").await.unwrap().is_none());
    // Reopening runs the migrations again: nothing changes.
    l.close().await;
    let l = store.open().await;
    assert_eq!(
        l.get("dev", "a")
            .await
            .unwrap()
            .unwrap()
            .replay_token
            .as_deref(),
        Some("corr-123")
    );
    let list = l.list_by_state(RecordState::Received, 10).await.unwrap();
    assert_eq!(list.len(), 1);
}

/// Holds the database's write lock from a connection of its own, so the ledger's writer
/// waits and the writes sent meanwhile queue up behind it.
enum Blocker {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Blocker {
    async fn hold(store: &Store) -> Self {
        use sqlx::Connection;
        match &store.cfg {
            LedgerConfig::Sqlite { path, .. } => {
                let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
                    .await
                    .unwrap();
                sqlx::raw_sql("BEGIN IMMEDIATE")
                    .execute(&mut c)
                    .await
                    .unwrap();
                Blocker::Sqlite(c)
            }
            LedgerConfig::Postgres { .. } => {
                let mut c = sqlx::PgConnection::connect(&store.env[0].1).await.unwrap();
                sqlx::raw_sql("BEGIN; LOCK TABLE orders IN EXCLUSIVE MODE")
                    .execute(&mut c)
                    .await
                    .unwrap();
                Blocker::Postgres(c)
            }
        }
    }

    async fn release(self) {
        match self {
            Blocker::Sqlite(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            }
            Blocker::Postgres(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            }
        }
    }
}

/// Runs SQL on the store's database from a connection of its own (test fixtures).
async fn fixture_sql(store: &Store, sql: &'static str) {
    use sqlx::Connection;
    match &store.cfg {
        LedgerConfig::Sqlite { path, .. } => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        }
        LedgerConfig::Postgres { .. } => {
            let mut c = sqlx::PgConnection::connect(&store.env[0].1).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// Waits (polling) until `cond` holds; fails the test after 20 s.
async fn until(what: &str, cond: impl Fn() -> bool) {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(tokio::time::Instant::now() < give_up, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Runs `begins` as ONE batch: the writer is held on a first write (`warm-<n>`, a batch of
/// its own) by a `Blocker` until all of them are queued. Returns their results in order.
async fn begins_in_one_batch(
    store: &Store,
    l: &Arc<Ledger>,
    begins: Vec<NewRecord>,
) -> Vec<Result<Begin, LedgerError>> {
    let blocker = Blocker::hold(store).await;
    let before = l.batch_stats().batches;
    let warm = {
        let l = l.clone();
        let n = new(&format!("warm-{before}"), &format!("warm-{before}"), "body");
        tokio::spawn(async move { l.begin(n).await })
    };
    until("the writer took the first write", || {
        l.batch_stats().batches == before + 1
    })
    .await;
    let n = begins.len();
    let tasks: Vec<_> = begins
        .into_iter()
        .map(|b| {
            let l = l.clone();
            tokio::spawn(async move { l.begin_sending(b).await })
        })
        .collect();
    until("every write is queued", || l.queued_writes() == n).await;
    blocker.release().await;
    assert!(warm.await.unwrap().unwrap().may_send());
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    assert_eq!(l.batch_stats().batches, before + 2, "one batch for all");
    out
}

/// Writes queued while the writer is busy commit together, in one batch; a write alone
/// is committed at once, in a batch of its own (no waiting for company).
pub async fn queued_writes_commit_together(store: &Store) {
    let l = store.open().await;
    for i in 0..3 {
        started(
            l.begin(new(&format!("s{i}"), &format!("s{i}"), "body"))
                .await
                .unwrap(),
        );
    }
    let s = l.batch_stats();
    assert_eq!(
        (s.batches, s.writes),
        (3, 3),
        "one at a time: batches of one"
    );
    let begins = (0..20)
        .map(|i| new(&format!("b{i}"), &format!("k{i}"), "body"))
        .collect();
    for r in begins_in_one_batch(store, &l, begins).await {
        let rec = started(r.unwrap());
        assert_eq!(l.get("dev", &rec.id).await.unwrap().unwrap(), rec);
    }
    let s = l.batch_stats();
    assert_eq!(s.writes, 3 + 1 + 20);
    assert!(s.by_size.contains(&(16, 31, 1)), "{s:?}");
}

/// Within one batch, one caller's failing statement (an id that is already taken) fails
/// that caller only; the others in the batch get their own answers, one key's duplicates
/// included.
pub async fn a_failing_write_fails_no_other_write_in_its_batch(store: &Store) {
    let l = store.open().await;
    started(l.begin(new("taken", "k-taken", "body")).await.unwrap());
    let mut begins: Vec<_> = (0..10)
        .map(|i| new(&format!("b{i}"), &format!("k{i}"), "body"))
        .collect();
    begins.push(new("taken", "k-other", "body")); // the id's primary key clashes
    begins.push(new("d1", "k-dup", "body"));
    begins.push(new("d2", "k-dup", "body"));
    let results = begins_in_one_batch(store, &l, begins).await;
    for r in &results[..10] {
        assert!(matches!(r, Ok(Begin::Started(_))), "{r:?}");
    }
    assert!(
        matches!(results[10], Err(LedgerError::Db { .. })),
        "{:?}",
        results[10]
    );
    // The two callers of one key race to the queue (their tasks run on two threads):
    // whichever the writer takes first starts it, the other is told it is in progress.
    match (&results[11], &results[12]) {
        (Ok(Begin::Started(won)), Ok(Begin::InProgress(held)))
        | (Ok(Begin::InProgress(held)), Ok(Begin::Started(won))) => {
            assert_eq!(won.id, held.id);
            assert!(["d1", "d2"].contains(&won.id.as_str()), "{won:?}");
        }
        other => panic!("{other:?}"),
    }
    for i in 0..10 {
        assert!(l.get("dev", &format!("b{i}")).await.unwrap().is_some());
    }
    assert!(l.find_by_key("dev", "k-other").await.unwrap().is_none());
    assert_eq!(
        l.get("dev", "taken").await.unwrap().unwrap().idem_key,
        "k-taken"
    );
}

/// A batch whose COMMIT fails (a deferred constraint, checked only at commit, refuses
/// one record) fails EVERY caller in it: none is told "recorded", and nothing of the
/// batch is stored. The ledger carries on afterwards.
pub async fn a_failed_commit_fails_every_caller_in_its_batch(store: &Store) {
    let l = store.open().await;
    fixture_sql(
        store,
        match store.cfg {
            LedgerConfig::Sqlite { .. } => {
                "CREATE TABLE poison_parent (id TEXT PRIMARY KEY);
                 CREATE TABLE poison (order_id TEXT REFERENCES poison_parent (id) DEFERRABLE INITIALLY DEFERRED);
                 CREATE TRIGGER poison_orders AFTER INSERT ON orders WHEN NEW.client = 'poison'
                 BEGIN INSERT INTO poison VALUES (NEW.id); END;"
            }
            LedgerConfig::Postgres { .. } => {
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql
                   AS $$ BEGIN RAISE EXCEPTION 'poisoned commit'; END $$;
                 CREATE CONSTRAINT TRIGGER poison_orders AFTER INSERT ON orders
                   DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
                   WHEN (NEW.client = 'poison') EXECUTE FUNCTION poison();"
            }
        },
    )
    .await;
    let mut begins: Vec<_> = (0..10)
        .map(|i| new(&format!("b{i}"), &format!("k{i}"), "body"))
        .collect();
    let mut poisoned = new("p", "k-p", "body");
    poisoned.client = "poison".into();
    begins.insert(5, poisoned);
    let results = begins_in_one_batch(store, &l, begins).await;
    for r in &results {
        assert!(matches!(r, Err(LedgerError::Db { .. })), "{r:?}");
    }
    for i in 0..10 {
        assert!(l.get("dev", &format!("b{i}")).await.unwrap().is_none());
    }
    assert!(l.get("poison", "p").await.unwrap().is_none());
    // The writer is fine: the same orders record now, one batch each.
    started(l.begin(new("b0", "k0", "body")).await.unwrap());
    assert!(l.get("dev", "b0").await.unwrap().is_some());
}

/// Runs one suite function by name; used by both store test files.
#[macro_export]
macro_rules! suite_tests {
    ($store:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(store) = $store().await else { return };
                suite::$name(&store).await;
            }
        )*
    };
}

/// Every test of this suite on `$store`: the one list both engines' test files run, so
/// a test added here runs on SQLite and on PostgreSQL alike.
#[macro_export]
macro_rules! every_suite_test {
    ($store:path) => {
        suite_tests!($store;
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
            two_replicas_claim_each_webhook_row_once,
            a_gone_claimers_deliveries_are_taken_over_at_once,
            a_gone_endpoint_holds_its_clients_deliveries_until_enabled,
            status_sync_claims_due_orders_once_and_records_changes,
            two_replicas_claim_each_followed_order_once,
        );
    };
}

/// Two processes on one ledger: each one's in-flight records become `unknown` when, and
/// only when, its lease is released or has expired; a live lease protects them, and a
/// process never recovers its own records this way.
pub async fn an_expired_lease_makes_its_holders_in_flight_records_unknown(store: &Store) {
    let a = store.open().await;
    let b = store.open().await;
    assert_ne!(a.holder(), b.holder());
    a.renew_lease(Duration::from_secs(3600)).await.unwrap();
    b.renew_lease(Duration::from_secs(3600)).await.unwrap();
    started(a.begin_sending(new("a1", "ref-a1", "body")).await.unwrap());
    started(a.begin(new("a2", "ref-a2", "body")).await.unwrap());
    started(b.begin_sending(new("b1", "ref-b1", "body")).await.unwrap());

    assert_eq!(
        b.recover_expired_holders().await.unwrap(),
        0,
        "a's lease is live"
    );
    assert_eq!(
        a.recover_expired_holders().await.unwrap(),
        0,
        "b's lease is live"
    );

    a.release_lease().await.unwrap();
    assert_eq!(
        a.recover_expired_holders().await.unwrap(),
        0,
        "never its own"
    );
    assert_eq!(b.recover_expired_holders().await.unwrap(), 2);
    for id in ["a1", "a2"] {
        let r = b.get_by_id(id).await.unwrap().unwrap();
        assert_eq!(r.state, RecordState::Unknown, "{id}");
        assert!(
            r.note.as_deref().unwrap_or("").contains("lease"),
            "{:?}",
            r.note
        );
        let kinds: Vec<String> = b
            .events("dev", id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            ["order.unknown"],
            "{id}: the transition has its event"
        );
    }
    assert_eq!(
        b.get_by_id("b1").await.unwrap().unwrap().state,
        RecordState::Sending
    );

    // A lease that ran out is as good as released.
    b.renew_lease(Duration::ZERO).await.unwrap();
    assert_eq!(a.recover_expired_holders().await.unwrap(), 1);
    assert_eq!(
        a.get_by_id("b1").await.unwrap().unwrap().state,
        RecordState::Unknown
    );
}

/// A remembered account is found only under its exact key, and the first stays.
pub async fn created_accounts_are_remembered_per_key(store: &Store) {
    let l = store.open().await;
    let key = ledger::AccountKey {
        client: "dev".into(),
        connection: "c".into(),
        customer_ref: "cust-1".into(),
        fingerprint: hash("details"),
    };
    assert_eq!(l.known_account(&key).await.unwrap(), None);
    let first = ledger::KnownAccount {
        kind: "patient".into(),
        vendor_id: "80001".into(),
        order_id: "ord_1".into(),
    };
    l.remember_account(&key, &first).await.unwrap();
    let second = ledger::KnownAccount {
        vendor_id: "80002".into(),
        order_id: "ord_2".into(),
        ..first.clone()
    };
    l.remember_account(&key, &second).await.unwrap();
    assert_eq!(l.known_account(&key).await.unwrap(), Some(first));
    for other in [
        ledger::AccountKey {
            client: "other".into(),
            ..key.clone()
        },
        ledger::AccountKey {
            connection: "c2".into(),
            ..key.clone()
        },
        ledger::AccountKey {
            customer_ref: "cust-2".into(),
            ..key.clone()
        },
        ledger::AccountKey {
            fingerprint: hash("moved"),
            ..key.clone()
        },
    ] {
        assert_eq!(l.known_account(&other).await.unwrap(), None, "{other:?}");
    }
}

fn new_for(client: &str, id: &str) -> NewRecord {
    NewRecord {
        client: client.into(),
        ..new(id, &format!("ref-{id}"), "body")
    }
}

fn answer(state: RecordState, status: &str) -> Finish {
    Finish {
        response: json!({"id": "x", "status": status}),
        ..done(state, false)
    }
}

/// (kind, source, state, status) of each of a client's order's events, in order.
async fn event_trail(
    l: &Ledger,
    client: &str,
    id: &str,
) -> Vec<(String, String, RecordState, Option<String>)> {
    let events = l.events(client, id).await.unwrap();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(
            e.seq,
            i64::try_from(i).unwrap() + 1,
            "events are numbered per order"
        );
        assert_eq!(e.order_id, id);
        assert!(e.event_id.starts_with("evt_"));
    }
    events
        .into_iter()
        .map(|e| (e.kind, e.source, e.state, e.status))
        .collect()
}

fn ev(
    kind: &str,
    source: &str,
    state: RecordState,
    status: Option<&str>,
) -> (String, String, RecordState, Option<String>) {
    (kind.into(), source.into(), state, status.map(str::to_owned))
}

/// Every outcome transition writes its event (the order's history) in the same write; a
/// client with a webhook also gets an outbox row per event, holding the payload; a
/// transition that does not apply writes nothing.
pub async fn transitions_write_events_and_outbox_rows(store: &Store) {
    use RecordState::{Accepted, Failed, Unknown};
    let l = store.open().await;
    l.set_webhook_clients(["hooked".to_owned()].into_iter().collect());

    // Created and accepted; a late writer's finish changes nothing and adds no event.
    started(l.begin_sending(new_for("hooked", "a")).await.unwrap());
    assert!(l.finish("a", answer(Accepted, "pending")).await.unwrap());
    assert!(!l.finish("a", answer(Failed, "failed")).await.unwrap());
    assert_eq!(
        event_trail(&l, "hooked", "a").await,
        vec![ev("order.accepted", "create", Accepted, Some("pending"))]
    );
    // Another client sees none of this order's events.
    assert!(l.events("plain", "a").await.unwrap().is_empty());

    // Unknown after sending, then settled by an operator.
    started(l.begin_sending(new_for("hooked", "b")).await.unwrap());
    assert!(l.set_unknown("b", "timeout after send").await.unwrap());
    let r = ledger::Resolution {
        outcome: ledger::ResolvedAs::NotPlaced {
            response: json!({"status": "failed"}),
        },
        operator: "ops@example".into(),
        reason: "not in the vendor portal".into(),
    };
    assert!(l.resolve_by_operator("b", &r).await.unwrap());
    assert_eq!(
        event_trail(&l, "hooked", "b").await,
        vec![
            ev("order.unknown", "create", Unknown, None),
            ev("order.settled", "operator", Failed, Some("failed")),
        ]
    );

    // Unknown by crash recovery, then the truth recorded by the process that made the
    // call (settled), or by the reconciler.
    started(l.begin_sending(new_for("hooked", "c")).await.unwrap());
    started(l.begin_sending(new_for("plain", "d")).await.unwrap());
    assert_eq!(l.recover_on_start().await.unwrap(), 2);
    assert!(l.finish("c", answer(Accepted, "accepted")).await.unwrap());
    assert!(
        l.resolve_unknown("d", answer(Accepted, "accepted"))
            .await
            .unwrap()
    );
    assert_eq!(
        event_trail(&l, "hooked", "c").await,
        vec![
            ev("order.unknown", "recovery", Unknown, None),
            ev("order.settled", "create", Accepted, Some("accepted")),
        ]
    );
    assert_eq!(
        event_trail(&l, "plain", "d").await,
        vec![
            ev("order.unknown", "recovery", Unknown, None),
            ev("order.settled", "reconcile", Accepted, Some("accepted")),
        ]
    );

    // The outbox: one pending row per event of the hooked client, in event order, with
    // the payload fixed at write time; none for the client without a webhook.
    let events = l.events("hooked", "b").await.unwrap();
    let outbox = l.outbox_of_order("b").await.unwrap();
    assert_eq!(outbox.len(), 2);
    for (e, d) in events.iter().zip(&outbox) {
        assert_eq!(
            (d.event_id.as_str(), d.seq, d.status.as_str()),
            (e.event_id.as_str(), e.seq, "pending")
        );
        let p: Value = serde_json::from_str(&d.payload).unwrap();
        assert_eq!(p["type"], e.kind.as_str());
        assert_eq!(p["data"]["eventId"], e.event_id.as_str());
        assert_eq!(p["data"]["orderId"], "b");
        assert_eq!(p["data"]["orderRef"], "ref-b");
        assert_eq!(p["data"]["state"], e.state.as_str());
    }
    let settled: Value = serde_json::from_str(&outbox[1].payload).unwrap();
    assert_eq!(settled["data"]["result"], json!({"status": "failed"}));
    assert_eq!(settled["data"]["source"], "operator");
    assert!(l.outbox_of_order("d").await.unwrap().is_empty());

    // Linking the vendor's id settles nothing yet: no event until a lookup confirms it.
    started(l.begin_sending(new_for("hooked", "e")).await.unwrap());
    assert!(l.set_unknown("e", "timeout after send").await.unwrap());
    let link = ledger::Resolution {
        outcome: ledger::ResolvedAs::Placed {
            vendor_order_id: "V9".into(),
        },
        ..r
    };
    assert!(l.resolve_by_operator("e", &link).await.unwrap());
    assert_eq!(
        event_trail(&l, "hooked", "e").await,
        vec![ev("order.unknown", "create", Unknown, None)]
    );
}

/// An event is written by the transition's own write: when the batch fails, neither the
/// transition nor its event is stored.
pub async fn a_failed_transition_stores_no_event(store: &Store) {
    let l = store.open().await;
    l.set_webhook_clients(["dev".to_owned()].into_iter().collect());
    started(l.begin_sending(new("e1", "k-e1", "body")).await.unwrap());
    // The event insert fails (a planted clash), so the finish fails as a whole.
    fixture_sql(
        store,
        "CREATE UNIQUE INDEX planted ON order_events (order_id)",
    )
    .await;
    fixture_sql(store, "INSERT INTO order_events (event_id, order_id, client, seq, kind, state, source, at) VALUES ('evt_x', 'e1', 'other', 99, 'order.unknown', 'unknown', 'create', '2026-01-01T00:00:00.000000Z')").await;
    assert!(
        l.finish("e1", done(RecordState::Accepted, false))
            .await
            .is_err()
    );
    assert_eq!(
        l.get("dev", "e1").await.unwrap().unwrap().state,
        RecordState::Sending
    );
    assert!(l.outbox_of_order("e1").await.unwrap().is_empty());
}

fn ids(ds: &[ledger::Delivery]) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = ds.iter().map(|d| (d.order_id.clone(), d.seq)).collect();
    v.sort();
    v
}

/// The outbox as the deliverer uses it: only an order's first pending event is due (per
/// order order), a claimed row is leased (not claimed again until the lease runs out),
/// an attempt's outcome moves it on, failed rows are listed and redelivered; two
/// replicas' concurrent claims never take one row twice (the next test).
pub async fn webhook_deliveries_are_claimed_once_and_in_order(store: &Store) {
    use ledger::Attempted;
    use time::OffsetDateTime;
    let lease = Duration::from_secs(60);
    let l = store.open().await;
    l.set_webhook_clients(["dev".to_owned()].into_iter().collect());
    started(l.begin_sending(new("a", "k-a", "body")).await.unwrap());
    assert!(l.set_unknown("a", "timeout").await.unwrap());
    let r = ledger::Resolution {
        outcome: ledger::ResolvedAs::NotPlaced {
            response: json!({"status": "failed"}),
        },
        operator: "ops".into(),
        reason: "not at the vendor".into(),
    };
    assert!(l.resolve_by_operator("a", &r).await.unwrap());
    started(l.begin_sending(new("b", "k-b", "body")).await.unwrap());
    assert!(
        l.finish("b", done(RecordState::Accepted, false))
            .await
            .unwrap()
    );

    let now = OffsetDateTime::now_utc() + Duration::from_secs(1);
    let first = l.claim_webhooks(now, lease, 10).await.unwrap();
    assert_eq!(ids(&first), vec![("a".into(), 1), ("b".into(), 1)]);
    assert!(
        l.claim_webhooks(now, lease, 10).await.unwrap().is_empty(),
        "leased"
    );
    // A lease that ran out (its replica died mid-attempt) is taken over.
    let later = now + Duration::from_secs(61);
    assert_eq!(
        ids(&l.claim_webhooks(later, lease, 10).await.unwrap()),
        ids(&first)
    );

    let a1 = first.iter().find(|d| d.order_id == "a").unwrap();
    let b1 = first.iter().find(|d| d.order_id == "b").unwrap();
    assert!(
        l.webhook_attempted(&a1.event_id, Attempted::Delivered)
            .await
            .unwrap()
    );
    assert!(
        !l.webhook_attempted(&a1.event_id, Attempted::Delivered)
            .await
            .unwrap()
    );
    let fail = Attempted::Failed {
        error: "410 Gone".into(),
    };
    assert!(l.webhook_attempted(&b1.event_id, fail).await.unwrap());
    // a's second event is due now that its first is delivered; retried in an hour.
    let much_later = later + Duration::from_secs(61);
    let second = l.claim_webhooks(much_later, lease, 10).await.unwrap();
    assert_eq!(ids(&second), vec![("a".into(), 2)]);
    let retry = Attempted::Retry {
        at: much_later + Duration::from_secs(3600),
        error: "503".into(),
    };
    assert!(
        l.webhook_attempted(&second[0].event_id, retry)
            .await
            .unwrap()
    );
    let after_lease = much_later + Duration::from_secs(61);
    assert!(
        l.claim_webhooks(after_lease, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "backing off"
    );
    let d = &l.outbox_of_order("a").await.unwrap()[1];
    assert_eq!(
        (d.attempts, d.status.as_str(), d.last_error.as_deref()),
        (1, "pending", Some("503"))
    );

    let failed = l.failed_webhooks(10).await.unwrap();
    assert_eq!(ids(&failed), vec![("b".into(), 1)]);
    assert_eq!(failed[0].last_error.as_deref(), Some("410 Gone"));
    assert_eq!(
        l.redeliver_webhooks(vec!["evt_nosuch".into()])
            .await
            .unwrap(),
        0
    );
    assert_eq!(l.redeliver_webhooks(Vec::new()).await.unwrap(), 1);
    assert!(l.failed_webhooks(10).await.unwrap().is_empty());
    let again = l.claim_webhooks(after_lease, lease, 10).await.unwrap();
    assert_eq!(ids(&again), vec![("b".into(), 1)]);
}

/// Two replicas (two ledgers on one database) claiming 40 due rows at once, in batches
/// of 5: every row is claimed exactly once.
pub async fn two_replicas_claim_each_webhook_row_once(store: &Store) {
    use time::OffsetDateTime;
    let lease = Duration::from_secs(60);
    let l = store.open().await;
    l.set_webhook_clients(["dev".to_owned()].into_iter().collect());
    for i in 0..40 {
        let id = format!("m{i}");
        started(
            l.begin_sending(new(&id, &format!("k-{id}"), "body"))
                .await
                .unwrap(),
        );
        assert!(
            l.finish(&id, done(RecordState::Accepted, false))
                .await
                .unwrap()
        );
    }
    let other = store.open().await;
    // Both replicas alive (a claim of a process without a live lease is taken over).
    l.renew_lease(Duration::from_secs(600)).await.unwrap();
    other.renew_lease(Duration::from_secs(600)).await.unwrap();
    let t = OffsetDateTime::now_utc() + Duration::from_secs(1);
    let claim_all = |l: Arc<Ledger>| async move {
        let mut got = Vec::new();
        loop {
            let batch = l.claim_webhooks(t, lease, 5).await.unwrap();
            if batch.is_empty() {
                return got;
            }
            got.extend(batch);
        }
    };
    let (x, y) = tokio::join!(
        tokio::spawn(claim_all(l.clone())),
        tokio::spawn(claim_all(other))
    );
    let mut all = ids(&x.unwrap());
    all.extend(ids(&y.unwrap()));
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a row claimed twice");
    assert_eq!(all.len(), 40, "every due row is claimed");
}

fn hooked_order(id: &str, client: &str) -> NewRecord {
    NewRecord {
        client: client.into(),
        ..new(id, &format!("k-{id}"), "body")
    }
}

async fn accepted_order(l: &Ledger, id: &str, client: &str) {
    started(l.begin_sending(hooked_order(id, client)).await.unwrap());
    assert!(
        l.finish(id, done(RecordState::Accepted, false))
            .await
            .unwrap()
    );
}

/// A delivery claimed by a process that is gone (its replica lease released at a stop,
/// or expired after a kill) is taken over at once, not when the claim's own lease runs
/// out; while the claimer's lease is live nobody else takes it.
pub async fn a_gone_claimers_deliveries_are_taken_over_at_once(store: &Store) {
    let lease = Duration::from_secs(60);
    let (a, b) = (store.open().await, store.open().await);
    for l in [&a, &b] {
        l.set_webhook_clients(["dev".to_owned()].into_iter().collect());
        l.renew_lease(Duration::from_secs(600)).await.unwrap();
    }
    accepted_order(&a, "t", "dev").await;
    let now = time::OffsetDateTime::now_utc() + Duration::from_secs(1);
    let claimed = a.claim_webhooks(now, lease, 10).await.unwrap();
    assert_eq!(ids(&claimed), vec![("t".into(), 1)]);
    assert!(
        b.claim_webhooks(now, lease, 10).await.unwrap().is_empty(),
        "a is alive"
    );
    assert!(
        a.claim_webhooks(now, lease, 10).await.unwrap().is_empty(),
        "a's own claim"
    );
    a.release_lease().await.unwrap();
    let taken = b.claim_webhooks(now, lease, 10).await.unwrap();
    assert_eq!(
        ids(&taken),
        ids(&claimed),
        "taken over within the claim's lease"
    );
    assert!(
        a.claim_webhooks(now, lease, 10).await.unwrap().is_empty(),
        "b is alive"
    );
}

/// A receiver answering 410 Gone disables its client's endpoint in the ledger (a restart
/// and every replica see it): that delivery and the client's others stay pending (held,
/// not failed, never claimed) while other clients' go on; the same URL keeps it
/// disabled, another URL or an operator's redelivery enables it and makes the held
/// deliveries due.
pub async fn a_gone_endpoint_holds_its_clients_deliveries_until_enabled(store: &Store) {
    use ledger::Attempted;
    let lease = Duration::from_secs(60);
    let l = store.open().await;
    l.set_webhook_clients(["dev".to_owned(), "other".to_owned()].into_iter().collect());
    l.renew_lease(Duration::from_secs(600)).await.unwrap();
    for (id, client) in [("g1", "dev"), ("g2", "dev"), ("o1", "other")] {
        accepted_order(&l, id, client).await;
    }
    let now = time::OffsetDateTime::now_utc() + Duration::from_secs(1);
    let first = l.claim_webhooks(now, lease, 10).await.unwrap();
    assert_eq!(first.len(), 3);
    let gone = |d: &ledger::Delivery| {
        let (l, id) = (l.clone(), d.event_id.clone());
        async move {
            let a = Attempted::Gone {
                error: "the receiver answered 410 Gone".into(),
                url_sha256: "u1".into(),
            };
            assert!(l.webhook_attempted(&id, a).await.unwrap());
        }
    };
    for d in &first {
        match d.order_id.as_str() {
            "g1" => gone(d).await,
            // The deliverer gives the gone client's other claims back unattempted.
            "g2" => assert!(l.release_webhook_claim(&d.event_id).await.unwrap()),
            _ => {
                let retry = Attempted::Retry {
                    at: now,
                    error: "503".into(),
                };
                assert!(l.webhook_attempted(&d.event_id, retry).await.unwrap());
            }
        }
    }
    let disabled = l.disabled_webhook_endpoints().await.unwrap();
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert_eq!(
        (
            disabled[0].client.as_str(),
            disabled[0].url_sha256.as_str(),
            disabled[0].held
        ),
        ("dev", "u1", 2)
    );
    assert!(disabled[0].reason.contains("410"));
    assert!(
        l.failed_webhooks(10).await.unwrap().is_empty(),
        "held, not failed"
    );
    let g1 = &l.outbox_of_order("g1").await.unwrap()[0];
    assert_eq!((g1.status.as_str(), g1.attempts), ("pending", 1));
    let g2 = &l.outbox_of_order("g2").await.unwrap()[0];
    assert_eq!((g2.status.as_str(), g2.attempts), ("pending", 0));

    // Another process on the same ledger (a restart, a replica) holds them too.
    let reopened = store.open().await;
    reopened
        .renew_lease(Duration::from_secs(600))
        .await
        .unwrap();
    let t = now + Duration::from_secs(61);
    assert_eq!(
        ids(&reopened.claim_webhooks(t, lease, 10).await.unwrap()),
        vec![("o1".into(), 1)]
    );
    let backlog = l.webhook_backlog().await.unwrap();
    let pending: Vec<(&str, i64)> = backlog
        .iter()
        .map(|b| (b.client.as_str(), b.pending))
        .collect();
    assert_eq!(pending, vec![("dev", 2), ("other", 1)]);
    assert!(
        backlog
            .iter()
            .all(|b| b.oldest_created_at <= ledger::rfc3339(now))
    );

    // The same URL in the config keeps it disabled; another URL enables it.
    let same = vec![("dev".to_owned(), "u1".to_owned())];
    assert!(l.reenable_changed_webhooks(same).await.unwrap().is_empty());
    let moved = vec![("dev".to_owned(), "u2".to_owned())];
    assert_eq!(
        l.reenable_changed_webhooks(moved).await.unwrap(),
        vec!["dev"]
    );
    assert!(l.disabled_webhook_endpoints().await.unwrap().is_empty());
    let t = t + Duration::from_secs(1);
    let due = l.claim_webhooks(t, lease, 10).await.unwrap();
    assert_eq!(ids(&due), vec![("g1".into(), 1), ("g2".into(), 1)]);

    // Gone again; an operator's redelivery of one of its events enables the endpoint and
    // makes all the client's held deliveries due.
    gone(due.iter().find(|d| d.order_id == "g1").unwrap()).await;
    assert_eq!(l.disabled_webhook_endpoints().await.unwrap().len(), 1);
    let g2 = due.iter().find(|d| d.order_id == "g2").unwrap();
    assert_eq!(
        l.redeliver_webhooks(vec![g2.event_id.clone()])
            .await
            .unwrap(),
        2
    );
    assert!(l.disabled_webhook_endpoints().await.unwrap().is_empty());
    let t = t + Duration::from_secs(61);
    let due: Vec<ledger::Delivery> = l
        .claim_webhooks(t, lease, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.client == "dev")
        .collect();
    assert_eq!(ids(&due), vec![("g1".into(), 1), ("g2".into(), 1)]);
    // And redelivering all enables every disabled endpoint.
    gone(&due[0]).await;
    assert_eq!(l.redeliver_webhooks(Vec::new()).await.unwrap(), 2);
    assert!(l.disabled_webhook_endpoints().await.unwrap().is_empty());
}

/// An accepted order answered `pending`, followed by status sync.
async fn followed(l: &Ledger, id: &str, first_at: time::OffsetDateTime) {
    started(
        l.begin_sending(new(id, &format!("k-{id}"), "body"))
            .await
            .unwrap(),
    );
    let f = Finish {
        response: json!({"id": id, "status": "pending"}),
        vendor_status: Some("1002".into()),
        sync: Some(ledger::SyncStart {
            handle: json!({"orderId": format!("V{id}")}),
            first_at,
            until: first_at + Duration::from_secs(3600),
        }),
        ..done(RecordState::Accepted, false)
    };
    assert!(l.finish(id, f).await.unwrap());
}

/// A read that changed order `a` (pending -> fulfilled, with tracking) and ends sync:
/// the order, its `order.status_changed` event and its outbox row.
async fn a_change_is_recorded_with_its_event(l: &Ledger) {
    use ledger::{NextSync, StatusUpdate};
    let done_now = StatusUpdate {
        status: "fulfilled".into(),
        vendor_status: "1000".into(),
        tracking: Some(json!([{"number": "1Z999"}])),
    };
    assert!(
        l.record_status("a", Some(done_now), NextSync::Stop)
            .await
            .unwrap()
    );
    assert_eq!(
        event_trail(l, "dev", "a").await,
        vec![
            ev(
                "order.accepted",
                "create",
                RecordState::Accepted,
                Some("pending")
            ),
            ev(
                "order.status_changed",
                "sync",
                RecordState::Accepted,
                Some("fulfilled")
            ),
        ]
    );
    let events = l.events("dev", "a").await.unwrap();
    assert_eq!(events[1].vendor_status.as_deref(), Some("1000"));
    assert_eq!(events[1].tracking, Some(json!([{"number": "1Z999"}])));
    let outbox = l.outbox_of_order("a").await.unwrap();
    assert_eq!(outbox.len(), 2);
    let payload: Value = serde_json::from_str(&outbox[1].payload).unwrap();
    assert_eq!(payload["type"], "order.status_changed");
    assert_eq!(payload["data"]["status"], "fulfilled");
    assert_eq!(payload["data"]["source"], "sync");
    let a = l.get("dev", "a").await.unwrap().unwrap();
    assert_eq!(
        (
            a.status.as_deref(),
            a.vendor_status.as_deref(),
            a.sync_next_at
        ),
        (Some("fulfilled"), Some("1000"), None)
    );
    assert_eq!(
        a.response,
        Some(json!({"id": "a", "status": "pending"})),
        "the answer stays as given"
    );
}

/// Status sync: the read handle and the first read are stored with the accepted outcome;
/// only due, followed, accepted orders are claimed, each for a lease; a read that changes
/// nothing writes no event, a change writes `order.status_changed` (source `sync`) with
/// its outbox row, a failed read only reschedules, `Stop` ends following.
pub async fn status_sync_claims_due_orders_once_and_records_changes(store: &Store) {
    use ledger::{NextSync, StatusUpdate};
    use time::OffsetDateTime;
    let lease = Duration::from_secs(60);
    let l = store.open().await;
    l.set_webhook_clients(["dev".to_owned()].into_iter().collect());
    let t0 = OffsetDateTime::now_utc();
    followed(&l, "a", t0).await;
    // Not followed: accepted without a handle, and a rejection (whose handle is dropped).
    started(l.begin_sending(new("b", "k-b", "body")).await.unwrap());
    assert!(
        l.finish("b", done(RecordState::Accepted, false))
            .await
            .unwrap()
    );
    started(l.begin_sending(new("c", "k-c", "body")).await.unwrap());
    let rejected = Finish {
        sync: Some(ledger::SyncStart {
            handle: json!({}),
            first_at: t0,
            until: t0 + Duration::from_secs(3600),
        }),
        ..done(RecordState::Rejected, false)
    };
    assert!(l.finish("c", rejected).await.unwrap());
    let a = l.get("dev", "a").await.unwrap().unwrap();
    assert_eq!(a.status.as_deref(), Some("pending"));
    assert_eq!(a.lookup, Some(json!({"orderId": "Va"})));
    assert!(a.sync_next_at.is_some());
    assert!(
        l.get("dev", "c")
            .await
            .unwrap()
            .unwrap()
            .sync_next_at
            .is_none()
    );

    assert!(
        l.claim_sync(t0 - Duration::from_secs(1), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let now = t0 + Duration::from_secs(1);
    let due = l.claim_sync(now, lease, 10).await.unwrap();
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(
        (due[0].id.as_str(), &due[0].handle, due[0].step),
        ("a", &json!({"orderId": "Va"}), 0)
    );
    assert_eq!(due[0].status.as_deref(), Some("pending"));
    assert!(
        l.claim_sync(now, lease, 10).await.unwrap().is_empty(),
        "leased"
    );
    let later = now + Duration::from_secs(61);
    assert_eq!(
        l.claim_sync(later, lease, 10).await.unwrap().len(),
        1,
        "lease over"
    );

    // The same status again: no event; rescheduled one step on.
    let same = StatusUpdate {
        status: "pending".into(),
        vendor_status: "1002".into(),
        tracking: None,
    };
    let next = NextSync::At {
        at: later + Duration::from_secs(60),
        step: 1,
    };
    assert!(!l.record_status("a", Some(same), next).await.unwrap());
    assert_eq!(event_trail(&l, "dev", "a").await.len(), 1);
    assert!(
        l.claim_sync(later, lease, 10).await.unwrap().is_empty(),
        "scheduled later"
    );
    // A failed read changes nothing and reschedules.
    let next = NextSync::At {
        at: later + Duration::from_secs(120),
        step: 2,
    };
    assert!(!l.record_status("a", None, next).await.unwrap());
    let due = l
        .claim_sync(later + Duration::from_secs(121), lease, 10)
        .await
        .unwrap();
    assert_eq!((due.len(), due[0].step), (1, 2));

    a_change_is_recorded_with_its_event(&l).await;
    assert!(
        l.claim_sync(later + Duration::from_secs(86_400), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "no longer followed"
    );
}

/// Two replicas (two ledgers on one database) claiming 40 due followed orders at once,
/// in batches of 5: every order is claimed exactly once.
pub async fn two_replicas_claim_each_followed_order_once(store: &Store) {
    use time::OffsetDateTime;
    let lease = Duration::from_secs(60);
    let l = store.open().await;
    let t0 = OffsetDateTime::now_utc();
    let now = t0 + Duration::from_secs(1);
    for i in 0..40 {
        followed(&l, &format!("m{i}"), t0).await;
    }
    let other = store.open().await;
    let claim_all = |l: Arc<Ledger>| async move {
        let mut got = Vec::new();
        loop {
            let batch = l.claim_sync(now, lease, 5).await.unwrap();
            if batch.is_empty() {
                return got;
            }
            got.extend(batch.into_iter().map(|d| d.id));
        }
    };
    let (x, y) = tokio::join!(
        tokio::spawn(claim_all(l.clone())),
        tokio::spawn(claim_all(other))
    );
    let mut all = x.unwrap();
    all.extend(y.unwrap());
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "an order claimed twice");
    assert_eq!(all.len(), 40);
}
