//! Order records and idempotency. Every accepted create is recorded before the vendor
//! is called and ends in a recorded state; the answer given is the answer stored, so a
//! replay is what the first caller saw.
//!
//! Data minimisation: the ledger stores ids, hashes, states and the canonical answer
//! (which carries no names, addresses, emails or phones). It never stores the order body.

mod record;
mod sqlite;

use serde::Deserialize;

pub use record::{Begin, Finish, NewRecord, Record, RecordState};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger database: {0}")]
    Db(String),
    #[error("ledger config: {0}")]
    Config(String),
}

impl From<sqlx::Error> for LedgerError {
    fn from(e: sqlx::Error) -> Self {
        LedgerError::Db(e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum LedgerConfig {
    /// The embedded default: one file, WAL mode, created and migrated on first start.
    #[serde(rename_all = "camelCase")]
    Sqlite { path: String },
    /// Several replicas sharing one ledger. `url` should be a `${ENV}` reference.
    #[serde(rename_all = "camelCase")]
    Postgres {
        url: String,
        #[serde(default = "default_max_connections")]
        max_connections: u32,
    },
}

fn default_max_connections() -> u32 {
    10
}

impl LedgerConfig {
    /// Secrets this config uses: `Some(env name)` for `${NAME}` references, `None` for literals.
    pub fn secret_refs(&self) -> Vec<Option<String>> {
        match self {
            LedgerConfig::Sqlite { .. } => Vec::new(),
            LedgerConfig::Postgres { url, .. } => vec![env_ref(url).map(str::to_owned)],
        }
    }
}

fn env_ref(s: &str) -> Option<&str> {
    s.strip_prefix("${")?.strip_suffix('}')
}

pub enum Ledger {
    Sqlite(sqlite::SqliteLedger),
}

pub async fn open(
    cfg: &LedgerConfig,
    _env: &dyn Fn(&str) -> Option<String>,
) -> Result<Ledger, LedgerError> {
    match cfg {
        LedgerConfig::Sqlite { path } => {
            Ok(Ledger::Sqlite(sqlite::SqliteLedger::open(path).await?))
        }
        LedgerConfig::Postgres { .. } => Err(LedgerError::Config(
            "the PostgreSQL ledger is not built yet; use kind: sqlite".into(),
        )),
    }
}

impl Ledger {
    /// Records a new order, or says what the ledger already holds under this key.
    pub async fn begin(&self, new: NewRecord) -> Result<Begin, LedgerError> {
        match self {
            Ledger::Sqlite(l) => l.begin(new).await,
        }
    }
    pub async fn mark_sending(&self, id: &str) -> Result<bool, LedgerError> {
        match self {
            Ledger::Sqlite(l) => l.mark_sending(id).await,
        }
    }
    /// Records the outcome; a terminal record is never overwritten.
    pub async fn finish(&self, id: &str, f: Finish) -> Result<bool, LedgerError> {
        match self {
            Ledger::Sqlite(l) => l.finish(id, f).await,
        }
    }
    pub async fn get(&self, client: &str, id: &str) -> Result<Option<Record>, LedgerError> {
        match self {
            Ledger::Sqlite(l) => l.get(client, id).await,
        }
    }
    pub async fn find_by_ref(
        &self,
        client: &str,
        order_ref: &str,
    ) -> Result<Option<Record>, LedgerError> {
        match self {
            Ledger::Sqlite(l) => l.find_by_ref(client, order_ref).await,
        }
    }
    pub async fn find_by_key(
        &self,
        client: &str,
        key: &str,
    ) -> Result<Option<Record>, LedgerError> {
        match self {
            Ledger::Sqlite(l) => l.find_by_key(client, key).await,
        }
    }
    /// Records left in flight by a crash become `unknown`; returns how many.
    pub async fn recover_on_start(&self) -> Result<u64, LedgerError> {
        match self {
            Ledger::Sqlite(l) => l.recover_on_start().await,
        }
    }
    pub async fn list_by_state(
        &self,
        state: RecordState,
        limit: u32,
    ) -> Result<Vec<Record>, LedgerError> {
        match self {
            Ledger::Sqlite(l) => l.list_by_state(state, limit).await,
        }
    }
}
