// A benchmark harness: a failed setup or write should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What one order costs the gateway in the ledger: `begin_sending` (claims the key and
//! records `sending` in one INSERT) then `finish` with a ~600-byte canonical answer, as
//! `order_flow` does. SQLite on a file (durable, the default, and `durability: relaxed`)
//! and on tmpfs (the difference is the disk's share), 1 and 32 orders in flight,
//! PostgreSQL when `LEDGER_TEST_POSTGRES_URL` is set, and a cheap read on the same SQLite
//! file as the baseline every figure is divided by. After each group it prints how the
//! group's writes were batched (group commit).

use std::sync::Arc;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use ledger::{BatchStats, Durability, Finish, Ledger, LedgerConfig, NewRecord, RecordState};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::runtime::Runtime;

const PG_ENV: &str = "LEDGER_TEST_POSTGRES_URL";
const IN_FLIGHT: usize = 32;

/// An accepted Juniper-like `OrderResult`, the size of a real one (two lines, totals).
fn answer() -> Value {
    let v = json!({
        "id": "ord_01980c2a7b3e7c61a1f04e2b9d6c5a10",
        "orderRef": "PO-2026-000123",
        "status": "accepted",
        "vendorStatus": "CREATED",
        "connection": "juniper-prod",
        "vendor": "juniper",
        "vendorOrderId": "JNP-88412093",
        "totals": {"currency": "EUR", "subtotal": "184.20", "tax": "34.18", "total": "214.07"},
        "lines": [
            {"sku": "JNP-AMOX-500-20", "quantity": 2, "unitPrice": "42.10",
             "discountedUnitPrice": "39.99", "status": "accepted"},
            {"sku": "JNP-IBU-400-50", "quantity": 4, "unitPrice": "25.00",
             "discountedUnitPrice": "23.75", "status": "accepted"}
        ],
        "createdAt": "2026-01-02T03:04:05.123456Z",
        "updatedAt": "2026-01-02T03:04:05.654321Z",
        "traceId": "0af7651916cd43dd8448eb211c80319c"
    });
    let len = serde_json::to_string(&v).unwrap().len();
    assert!((500..=700).contains(&len), "answer is {len} bytes");
    v
}

/// One order as the gateway records it, under a fresh id and key.
async fn one_order(l: &Ledger, answer: &Value) {
    let id = format!("ord_{}", uuid::Uuid::now_v7().simple());
    let new = NewRecord {
        id: id.clone(),
        client: "bench".into(),
        order_ref: id.clone(),
        idem_key: id.clone(),
        body_hash: ledger::sha256_hex(id.as_bytes()),
        route: "default".into(),
        connection: "juniper-prod".into(),
        vendor: "juniper".into(),
        trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
    };
    assert!(l.begin_sending(new).await.unwrap().may_send());
    let f = Finish {
        state: RecordState::Accepted,
        http_status: 201,
        response: answer.clone(),
        vendor_order_id: Some("JNP-88412093".into()),
        vendor_status: Some("CREATED".into()),
        never_sent: false,
        sync: None,
    };
    assert!(l.finish(&id, f).await.unwrap());
}

fn bench_one(g: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, l: &Arc<Ledger>, a: &Value) {
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_order", |b| b.to_async(rt).iter(|| one_order(l, a)));
}

/// Spawned, not joined in one task: the runtime's workers drive the orders in parallel,
/// as the gateway's connection tasks do.
fn bench_concurrent(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    l: &Arc<Ledger>,
    a: &Value,
) {
    g.throughput(Throughput::Elements(IN_FLIGHT as u64));
    g.bench_function(format!("{IN_FLIGHT}_concurrent"), |b| {
        b.to_async(rt).iter(|| async {
            let tasks: Vec<_> = (0..IN_FLIGHT)
                .map(|_| {
                    let (l, a) = (l.clone(), a.clone());
                    tokio::spawn(async move { one_order(&l, &a).await })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        })
    });
}

async fn open_sqlite(dir: &std::path::Path, durability: Durability) -> Arc<Ledger> {
    let cfg = LedgerConfig::Sqlite {
        path: dir.join("ledger.db").display().to_string(),
        durability,
        max_batch: ledger::DEFAULT_MAX_BATCH,
    };
    Arc::new(ledger::open(&cfg, &|_: &str| None).await.unwrap())
}

/// Both benchmarks of a group, then the group's batch sizes (warm-up included).
fn bench_group(c: &mut Criterion, name: &str, rt: &Runtime, l: &Arc<Ledger>, a: &Value) {
    let mut g = c.benchmark_group(name);
    for concurrent in [false, true] {
        let before = l.batch_stats();
        if concurrent {
            bench_concurrent(&mut g, rt, l, a);
        } else {
            bench_one(&mut g, rt, l, a);
        }
        let what = if concurrent {
            "32 in flight"
        } else {
            "one at a time"
        };
        print_batches(&format!("{name}, {what}"), &before, &l.batch_stats());
    }
    g.finish();
}

fn print_batches(what: &str, before: &BatchStats, after: &BatchStats) {
    let batches = after.batches - before.batches;
    let writes = after.writes - before.writes;
    let sizes: Vec<String> = after
        .by_size
        .iter()
        .zip(&before.by_size)
        .filter(|(a, b)| a.2 > b.2)
        .map(|(a, b)| {
            let share = 100.0 * (a.2 - b.2) as f64 / batches.max(1) as f64;
            match a.1 {
                u64::MAX => format!("{}+: {share:.1}%", a.0),
                top if top == a.0 => format!("{}: {share:.1}%", a.0),
                top => format!("{}-{top}: {share:.1}%", a.0),
            }
        })
        .collect();
    eprintln!(
        "batches [{what}]: {writes} writes in {batches} batches, {:.2} writes/batch; by size {}",
        writes as f64 / batches.max(1) as f64,
        sizes.join(", ")
    );
}

/// `url` with its database name replaced (as in `tests/postgres.rs`).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let q = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{}/{db}{q}", &base[..host_end])
}

async fn admin_sql(url: &str, sql: String) {
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
}

fn per_order(c: &mut Criterion) {
    // Two workers: the machine has two cores, as the gateway's deployment does.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let a = answer();

    let file_dir = tempfile::tempdir().unwrap();
    let file = rt.block_on(open_sqlite(file_dir.path(), Durability::Durable));

    let mut g = c.benchmark_group("baseline");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sqlite_read_missing_ref", |b| {
        b.to_async(&rt).iter(|| async {
            assert!(
                file.find_by_ref("bench", "no-such-ref")
                    .await
                    .unwrap()
                    .is_none()
            );
        })
    });
    g.finish();

    bench_group(c, "sqlite_file", &rt, &file, &a);
    rt.block_on(file.close());

    let relaxed_dir = tempfile::tempdir().unwrap();
    let relaxed = rt.block_on(open_sqlite(relaxed_dir.path(), Durability::Relaxed));
    bench_group(c, "sqlite_file_relaxed", &rt, &relaxed, &a);
    rt.block_on(relaxed.close());

    if std::path::Path::new("/dev/shm").is_dir() {
        let shm_dir = tempfile::tempdir_in("/dev/shm").unwrap();
        let shm = rt.block_on(open_sqlite(shm_dir.path(), Durability::Durable));
        let mut g = c.benchmark_group("sqlite_tmpfs");
        bench_one(&mut g, &rt, &shm, &a);
        g.finish();
        rt.block_on(shm.close());
    } else {
        eprintln!("sqlite_tmpfs benchmarks SKIPPED: no /dev/shm");
    }

    let Ok(url) = std::env::var(PG_ENV) else {
        eprintln!("postgres benchmarks SKIPPED: set {PG_ENV}");
        return;
    };
    // A fresh database, as the tests use, so earlier runs' rows do not weigh on this one.
    let db = format!("ledger_bench_{}", uuid::Uuid::new_v4().simple());
    rt.block_on(admin_sql(&url, format!("CREATE DATABASE {db}")));
    let cfg = LedgerConfig::Postgres {
        url: with_database(&url, &db),
        max_connections: 10, // the config's default
        max_batch: ledger::DEFAULT_MAX_BATCH,
    };
    let pg = Arc::new(rt.block_on(ledger::open(&cfg, &|_: &str| None)).unwrap());
    bench_group(c, "postgres", &rt, &pg, &a);
    rt.block_on(pg.close());
    rt.block_on(admin_sql(&url, format!("DROP DATABASE {db}")));
}

criterion_group!(benches, per_order);
criterion_main!(benches);
