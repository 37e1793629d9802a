#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The ledger suite on a real PostgreSQL server: a fresh database per test on the server
//! `LEDGER_TEST_POSTGRES_URL` points at (see `scripts/start-test-postgres.sh`). Skipped,
//! with a notice, when the variable is unset (a failure when `LEDGER_TEST_POSTGRES_REQUIRED`
//! is set, as `./scripts/test` does once it has a server).

mod suite;

use ledger::LedgerConfig;
use sqlx::Connection;
use suite::Store;

const ENV: &str = "LEDGER_TEST_POSTGRES_URL";

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn store() -> Option<Store> {
    let Ok(url) = std::env::var(ENV) else {
        assert!(
            std::env::var_os("LEDGER_TEST_POSTGRES_REQUIRED").is_none(),
            "LEDGER_TEST_POSTGRES_REQUIRED is set but {ENV} is not: PostgreSQL was meant to run"
        );
        eprintln!("SKIPPED: {ENV} is not set; run scripts/start-test-postgres.sh to get one");
        return None;
    };
    let db = format!("ledger_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to the test server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    Some(Store {
        // The url goes through an env reference, as in production config.
        cfg: LedgerConfig::Postgres {
            url: "${LEDGER_DATABASE_URL}".into(),
            max_connections: 10,
            max_batch: ledger::DEFAULT_MAX_BATCH,
        },
        env: vec![("LEDGER_DATABASE_URL".into(), with_database(&url, &db))],
        _keep: None,
    })
}

every_suite_test!(store);

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        with_database("postgres://u:p@h:5/postgres?sslmode=disable", "x"),
        "postgres://u:p@h:5/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:5", "x"), "postgres://h:5/x");
}

#[tokio::test]
async fn a_missing_url_variable_is_a_config_error_naming_the_variable() {
    let cfg = LedgerConfig::Postgres {
        url: "${NOPE_NOT_SET}".into(),
        max_connections: 2,
        max_batch: 1,
    };
    match ledger::open(&cfg, &|_: &str| None).await {
        Err(ledger::LedgerError::Config(m)) => assert!(m.contains("NOPE_NOT_SET")),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened"),
    }
}

#[tokio::test]
async fn a_bad_url_is_refused_without_printing_it() {
    let cfg = LedgerConfig::Postgres {
        url: "${U}".into(),
        max_connections: 2,
        max_batch: 1,
    };
    let secret = "postgres://user:hunter2@127.0.0.1:1/db?sslmode=bogus";
    match ledger::open(&cfg, &|_: &str| Some(secret.to_owned())).await {
        Err(e) => assert!(!e.to_string().contains("hunter2"), "{e}"),
        Ok(_) => panic!("opened"),
    }
}
