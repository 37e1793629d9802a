//! Order records and idempotency. Every accepted create is recorded before the vendor
//! is called and ends in a recorded state; the answer given is the answer stored, so a
//! replay is what the first caller saw.
//!
//! Two stores behind one [`Ledger`]: embedded SQLite (default) and PostgreSQL (several
//! replicas). Both run the same SQL and pass the same test suite.
//!
//! Data minimisation: the ledger stores ids, hashes, states and the canonical answer
//! (which carries no names, addresses, emails or phones). It never stores the order body.

#[macro_use]
mod lifecycle;
#[macro_use]
mod store;
#[macro_use]
mod sync;
mod batch;
mod lease;
pub mod metric_names;
mod postgres;
mod record;
mod sqlite;
mod sqlite_checkpoint;
mod sqlite_writer;
mod sqlite_writes;

use std::time::Duration;

use serde::Deserialize;
use sha2::Digest;
use time::OffsetDateTime;

pub use batch::{BatchStats, DEFAULT_MAX_BATCH};
pub use lifecycle::{
    Attempted, Backlog, Delivery, DisabledEndpoint, Event, EventKind, EventSource,
};
pub use record::{Begin, Finish, NewRecord, Record, RecordState};
pub use sync::{NextSync, StatusUpdate, SyncDue, SyncStart};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The database failed or is unreachable (retrying later may help). `source` is the
    /// driver's error when there is one (its text is the message, as operators read it
    /// in logs); never for a failed connect, whose driver text can hold the URL: that
    /// message is redacted and the driver's error dropped.
    #[error("ledger database: {message}")]
    Db {
        message: String,
        #[source]
        source: Option<std::sync::Arc<sqlx::Error>>,
    },
    /// The ledger config cannot work.
    #[error("ledger config: {0}")]
    Config(String),
    /// The caller passed something the ledger refuses (a bug in the caller).
    #[error("ledger: invalid input: {0}")]
    Invalid(String),
}

impl LedgerError {
    /// A database failure the ledger itself noticed (no driver error behind it).
    pub(crate) fn db(message: impl Into<String>) -> Self {
        LedgerError::Db {
            message: message.into(),
            source: None,
        }
    }
}

impl From<sqlx::Error> for LedgerError {
    fn from(e: sqlx::Error) -> Self {
        LedgerError::Db {
            message: e.to_string(),
            source: Some(std::sync::Arc::new(e)),
        }
    }
}

/// `ledger:` in the gateway config.
///
/// ```yaml
/// ledger: { kind: sqlite, path: data/ledger.db }                        # durability: durable, maxBatch: 64
/// ledger: { kind: sqlite, path: data/ledger.db, durability: relaxed }   # see Durability::Relaxed
/// ledger: { kind: postgres, url: "${LEDGER_DATABASE_URL}", maxConnections: 10 }
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum LedgerConfig {
    /// The embedded default: one file, WAL mode, created and migrated on first start.
    #[serde(rename_all = "camelCase")]
    Sqlite {
        path: String,
        #[serde(default)]
        durability: Durability,
        /// Most writes committed together in one transaction (group commit).
        #[serde(default = "default_max_batch")]
        max_batch: u32,
    },
    /// Several replicas sharing one ledger. `url` should be a `${ENV}` reference.
    #[serde(rename_all = "camelCase")]
    Postgres {
        url: String,
        #[serde(default = "default_max_connections")]
        max_connections: u32,
        #[serde(default = "default_max_batch")]
        max_batch: u32,
    },
}

/// What an acknowledged SQLite write survives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Durability {
    /// `synchronous=FULL`: every batch's commit is fsynced before any caller in it is
    /// answered, so an acknowledged write survives a power loss.
    #[default]
    Durable,
    /// `synchronous=NORMAL`: commits survive a process crash, but the last commits
    /// before a power loss or OS crash (those since the last WAL checkpoint's fsync) can
    /// be lost; a lost `sending` record can mean a duplicate vendor order on retry.
    Relaxed,
}

/// The url may hold a password: never printed.
impl std::fmt::Debug for LedgerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerConfig::Sqlite {
                path,
                durability,
                max_batch,
            } => f
                .debug_struct("Sqlite")
                .field("path", path)
                .field("durability", durability)
                .field("max_batch", max_batch)
                .finish(),
            LedgerConfig::Postgres {
                url,
                max_connections,
                max_batch,
            } => f
                .debug_struct("Postgres")
                .field(
                    "url",
                    &match env_ref(url) {
                        Some(name) => format!("${{{name}}}"),
                        None => "<redacted>".to_owned(),
                    },
                )
                .field("max_connections", max_connections)
                .field("max_batch", max_batch)
                .finish(),
        }
    }
}

fn default_max_connections() -> u32 {
    10
}

fn default_max_batch() -> u32 {
    DEFAULT_MAX_BATCH
}

fn check_max_batch(max_batch: u32) -> Result<u32, LedgerError> {
    if max_batch == 0 {
        return Err(LedgerError::Config(
            "ledger.maxBatch must be at least 1".into(),
        ));
    }
    Ok(max_batch)
}

impl LedgerConfig {
    /// A SQLite ledger at `path` with the defaults (durable, batches of up to 64).
    pub fn sqlite(path: impl Into<String>) -> Self {
        LedgerConfig::Sqlite {
            path: path.into(),
            durability: Durability::Durable,
            max_batch: DEFAULT_MAX_BATCH,
        }
    }

    /// Secrets this config uses: `Some(env name)` for `${NAME}` references, `None` for literals.
    pub fn secret_refs(&self) -> Vec<Option<String>> {
        match self {
            LedgerConfig::Sqlite { .. } => Vec::new(),
            LedgerConfig::Postgres { url, .. } => vec![env_ref(url).map(str::to_owned)],
        }
    }
}

fn env_ref(s: &str) -> Option<&str> {
    secret_ref::parse(s)
}

/// Opens (creating and migrating on first start) the store the config names. A postgres
/// `url` of the form `${NAME}` is looked up with `resolve_env`; the value is never logged.
pub async fn open(
    cfg: &LedgerConfig,
    resolve_env: &dyn Fn(&str) -> Option<String>,
) -> Result<Ledger, LedgerError> {
    match cfg {
        LedgerConfig::Sqlite {
            path,
            durability,
            max_batch,
        } => {
            let l =
                sqlite::SqliteLedger::open(path, *durability, check_max_batch(*max_batch)?).await?;
            tracing::info!(path = %path, ?durability, max_batch, "ledger: SQLite");
            Ok(Ledger::Sqlite(l))
        }
        LedgerConfig::Postgres {
            url,
            max_connections,
            max_batch,
        } => {
            let max_batch = check_max_batch(*max_batch)?;
            // The URL carries the database password: a secret from here on.
            let url = secret_ref::resolve(url, resolve_env)
                .map_err(|e| LedgerError::Config(e.to_string()))?;
            let l = postgres::PgLedger::open(&url, *max_connections, max_batch).await?;
            tracing::info!(max_connections, max_batch, "ledger: PostgreSQL");
            Ok(Ledger::Postgres(l))
        }
    }
}

/// The ledger, on one of its stores. Share it as `Arc<Ledger>`.
pub enum Ledger {
    Sqlite(sqlite::SqliteLedger),
    Postgres(postgres::PgLedger),
}

macro_rules! dispatch {
    ($self:ident, $l:ident => $call:expr) => {
        match $self {
            Ledger::Sqlite($l) => $call,
            Ledger::Postgres($l) => $call,
        }
    };
}

impl Ledger {
    /// Which store this is: `"sqlite"` or `"postgres"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Ledger::Sqlite(_) => "sqlite",
            Ledger::Postgres(_) => "postgres",
        }
    }

    /// Records a new order as `received`, or says what the ledger already holds under
    /// `(client, idem_key)`. Atomic: of concurrent callers with one key exactly one gets
    /// `Started`, and of concurrent retries of a `failed` + `never_sent` record exactly
    /// one gets `Retry` (re-armed to `received`, attempts kept).
    pub async fn begin(&self, new: NewRecord) -> Result<Begin, LedgerError> {
        dispatch!(self, l => l.begin(new, false).await)
    }

    /// `begin` + `mark_sending` in one statement, for callers that call the vendor right
    /// away: `Started`/`Retry` come back as `sending` with one more attempt.
    pub async fn begin_sending(&self, new: NewRecord) -> Result<Begin, LedgerError> {
        dispatch!(self, l => l.begin(new, true).await)
    }

    /// `received -> sending`, one more attempt. False when the record is not `received`.
    pub async fn mark_sending(&self, id: &str) -> Result<bool, LedgerError> {
        dispatch!(self, l => l.mark_sending(id).await)
    }

    /// Records the outcome of the vendor call: `received`/`sending` -> `f.state`
    /// (`accepted`, `rejected`, `failed` or `unknown`); a terminal `f.state` may also
    /// resolve an `unknown` record (the caller knows the truth after a recovery marked it
    /// unknown). A terminal record is never overwritten: returns whether it applied.
    pub async fn finish(&self, id: &str, f: Finish) -> Result<bool, LedgerError> {
        dispatch!(self, l => l.finish(id, f).await)
    }

    /// `received`/`sending` -> `unknown` (e.g. a timeout after sending), with a reason
    /// (no personal data). Returns whether it applied.
    pub async fn set_unknown(&self, id: &str, reason: &str) -> Result<bool, LedgerError> {
        dispatch!(self, l => l.set_unknown(id, reason).await)
    }

    /// Stores what a reconciler will need (opaque to the ledger; no personal data), in
    /// any state. Returns whether the record exists.
    pub async fn set_reconcile_info(
        &self,
        id: &str,
        replay_token: Option<&str>,
        lookup: Option<&serde_json::Value>,
    ) -> Result<bool, LedgerError> {
        dispatch!(self, l => l.set_reconcile_info(id, replay_token, lookup).await)
    }

    /// An operator found an `unknown` order at the vendor: remember the vendor's order id
    /// so the caller's next retry settles it by looking the order up there (the answer
    /// then comes from the vendor, not from the operator). Only `unknown` records; returns
    /// whether it applied.
    pub async fn link_vendor_order(
        &self,
        id: &str,
        vendor_order_id: &str,
    ) -> Result<bool, LedgerError> {
        if vendor_order_id.is_empty() || vendor_order_id.len() > 128 {
            return Err(LedgerError::Invalid(
                "a vendor order id is 1..128 characters".into(),
            ));
        }
        dispatch!(self, l => l.link_vendor_order(id, vendor_order_id).await)
    }

    /// A client's record by gateway order id (another client's record is `None`).
    /// Any client's record by id (operator tools; the API reads are client-scoped).
    pub async fn get_by_id(&self, id: &str) -> Result<Option<Record>, LedgerError> {
        dispatch!(self, l => l.get_by_id(id).await)
    }

    pub async fn get(&self, client: &str, id: &str) -> Result<Option<Record>, LedgerError> {
        dispatch!(self, l => l.get(client, id).await)
    }

    /// A client's newest record with this `orderRef`.
    pub async fn find_by_ref(
        &self,
        client: &str,
        order_ref: &str,
    ) -> Result<Option<Record>, LedgerError> {
        dispatch!(self, l => l.find_by_ref(client, order_ref).await)
    }

    /// A client's record by idempotency key.
    pub async fn find_by_key(
        &self,
        client: &str,
        key: &str,
    ) -> Result<Option<Record>, LedgerError> {
        dispatch!(self, l => l.find_by_key(client, key).await)
    }

    /// Oldest first.
    pub async fn list_by_state(
        &self,
        state: RecordState,
        limit: u32,
    ) -> Result<Vec<Record>, LedgerError> {
        self.page_by_state(state, None, limit).await
    }

    /// One page, oldest first, of the records after the id `after` (the last id of the
    /// previous page; ids sort in creation order).
    pub async fn page_by_state(
        &self,
        state: RecordState,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Record>, LedgerError> {
        let after = after.unwrap_or("");
        dispatch!(self, l => l.list_by_state(state, after, limit).await)
    }

    /// Every state with its count (zeros included), in `RecordState::ALL` order.
    pub async fn count_by_state(&self) -> Result<Vec<(RecordState, u64)>, LedgerError> {
        dispatch!(self, l => l.count_by_state().await)
    }

    /// Records in one state: a range of the `(state, id)` index, where `count_by_state`
    /// reads the whole index (for a periodic gauge, this one).
    pub async fn count_in_state(&self, state: RecordState) -> Result<u64, LedgerError> {
        dispatch!(self, l => l.count_in_state(state).await)
    }

    /// Records left in flight (`received`/`sending`) by a crash become `unknown`; returns
    /// how many. Call once at start, before serving. With several replicas on PostgreSQL
    /// prefer [`Ledger::recover_stale`], which spares other replicas' live orders.
    pub async fn recover_on_start(&self) -> Result<u64, LedgerError> {
        dispatch!(self, l => l.recover_before(OffsetDateTime::now_utc(), RECOVERED_NOTE).await)
    }

    /// Like `recover_on_start`, for records untouched for at least `older_than` (longer
    /// than any vendor call can take).
    pub async fn recover_stale(&self, older_than: Duration) -> Result<u64, LedgerError> {
        let cutoff = OffsetDateTime::now_utc() - older_than;
        dispatch!(self, l => l.recover_before(cutoff, STALE_NOTE).await)
    }

    /// The account a vendor created for this customer and details, if remembered.
    pub async fn known_account(
        &self,
        key: &AccountKey,
    ) -> Result<Option<KnownAccount>, LedgerError> {
        dispatch!(self, l => l.known_account(key).await)
    }

    /// Remembers an account a vendor created (the first for a key stays).
    pub async fn remember_account(
        &self,
        key: &AccountKey,
        account: &KnownAccount,
    ) -> Result<(), LedgerError> {
        dispatch!(self, l => l.remember_account(key, account).await)
    }

    /// This process's holder name, written on every record it puts in flight.
    pub fn holder(&self) -> &str {
        dispatch!(self, l => l.holder())
    }

    /// Extends this process's lease to now + `ttl` (see [`lease`](crate::lease)).
    pub async fn renew_lease(&self, ttl: Duration) -> Result<(), LedgerError> {
        dispatch!(self, l => l.renew_lease(ttl).await)
    }

    /// Ends this process's lease at a clean stop, so others settle what it left in flight
    /// at once.
    pub async fn release_lease(&self) -> Result<(), LedgerError> {
        dispatch!(self, l => l.release_lease().await)
    }

    /// In-flight records of other processes whose lease expired become `unknown`; returns
    /// how many.
    pub async fn recover_expired_holders(&self) -> Result<u64, LedgerError> {
        dispatch!(self, l => l.recover_expired_holders(LEASE_EXPIRED_NOTE).await)
    }

    /// An operator's resolution of an `unknown` order (false: not `unknown` any more).
    pub async fn resolve_by_operator(&self, id: &str, r: &Resolution) -> Result<bool, LedgerError> {
        if r.operator.trim().is_empty() || r.reason.trim().is_empty() {
            return Err(LedgerError::Invalid(
                "a resolution names its operator and its reason".into(),
            ));
        }
        dispatch!(self, l => l.resolve_by_operator(id, r).await)
    }

    /// The record (other than none) already holding `vendor_order_id` on `connection`.
    pub async fn holder_of_vendor_order(
        &self,
        connection: &str,
        vendor_order_id: &str,
    ) -> Result<Option<String>, LedgerError> {
        dispatch!(self, l => l.holder_of_vendor_order(connection, vendor_order_id).await)
    }

    /// For the reconciler: `unknown` records, oldest first.
    pub async fn list_unknown(&self, limit: u32) -> Result<Vec<Record>, LedgerError> {
        self.list_by_state(RecordState::Unknown, limit).await
    }

    /// For the reconciler: `unknown` -> `f.state` (`accepted`, `rejected` or `failed`).
    pub async fn resolve_unknown(&self, id: &str, f: Finish) -> Result<bool, LedgerError> {
        dispatch!(self, l => l.resolve_unknown(id, f).await)
    }

    /// The clients whose events also go to the webhook outbox (replaces the set; call at
    /// start and on config reload). Events of other clients are history only.
    pub fn set_webhook_clients(&self, clients: std::collections::HashSet<String>) {
        dispatch!(self, l => l.set_webhook_clients(clients))
    }

    /// A client's order's events (its transitions), oldest first; another client's
    /// order has none.
    pub async fn events(&self, client: &str, order_id: &str) -> Result<Vec<Event>, LedgerError> {
        dispatch!(self, l => l.events(client, order_id).await)
    }

    /// A client's record and its events as of one moment (one snapshot), or `None`.
    pub async fn record_with_events(
        &self,
        client: &str,
        id: &str,
    ) -> Result<Option<(Record, Vec<Event>)>, LedgerError> {
        dispatch!(self, l => l.record_with_events(client, id).await)
    }

    /// An order's webhook deliveries (outbox rows), in event order.
    pub async fn outbox_of_order(&self, order_id: &str) -> Result<Vec<Delivery>, LedgerError> {
        dispatch!(self, l => l.outbox_of_order(order_id).await)
    }

    /// Claims up to `limit` due webhook deliveries for `lease` (see the README: only an
    /// order's first pending event is due; replicas on PostgreSQL split the rows).
    pub async fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>, LedgerError> {
        dispatch!(self, l => l.claim_webhooks(now, lease, limit).await)
    }

    /// Records one attempt's outcome for a `pending` delivery (false: it is not pending).
    pub async fn webhook_attempted(
        &self,
        event_id: &str,
        outcome: Attempted,
    ) -> Result<bool, LedgerError> {
        dispatch!(self, l => l.webhook_attempted(event_id, outcome).await)
    }

    /// Failed deliveries, oldest first (admin `/webhooks/failed`).
    pub async fn failed_webhooks(&self, limit: u32) -> Result<Vec<Delivery>, LedgerError> {
        dispatch!(self, l => l.failed_webhooks(limit).await)
    }

    /// Failed deliveries back to pending with a fresh window: these ids, or all when
    /// `event_ids` is empty. Also enables the disabled endpoint (410) of the named events'
    /// clients (of every client when empty), making their held deliveries due. Returns
    /// how many deliveries were made due.
    pub async fn redeliver_webhooks(&self, event_ids: Vec<String>) -> Result<u64, LedgerError> {
        dispatch!(self, l => l.redeliver_webhooks(event_ids).await)
    }

    /// Gives a claimed delivery back unattempted (false: it is not pending).
    pub async fn release_webhook_claim(&self, event_id: &str) -> Result<bool, LedgerError> {
        dispatch!(self, l => l.release_webhook_claim(event_id).await)
    }

    /// Client endpoints disabled by a 410 Gone, oldest first, with their held deliveries.
    pub async fn disabled_webhook_endpoints(&self) -> Result<Vec<DisabledEndpoint>, LedgerError> {
        dispatch!(self, l => l.disabled_webhook_endpoints().await)
    }

    /// Enables each disabled endpoint whose client's configured URL (`current`: client,
    /// SHA-256 hex of the URL) is not the one that answered 410; its held deliveries are
    /// due now with a fresh window. Returns the clients enabled.
    pub async fn reenable_changed_webhooks(
        &self,
        current: Vec<(String, String)>,
    ) -> Result<Vec<String>, LedgerError> {
        dispatch!(self, l => l.reenable_changed_webhooks(current).await)
    }

    /// Undelivered events per client (pending, held included), with the oldest's time.
    pub async fn webhook_backlog(&self) -> Result<Vec<Backlog>, LedgerError> {
        dispatch!(self, l => l.webhook_backlog().await)
    }

    /// Claims up to `limit` followed orders whose next status read is due, each for
    /// `lease` (another replica takes one over only after its lease ran out). PostgreSQL:
    /// `FOR UPDATE SKIP LOCKED`, so replicas claiming at once split the orders.
    pub async fn claim_sync(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<SyncDue>, LedgerError> {
        dispatch!(self, l => l.claim_sync(now, lease, limit).await)
    }

    /// Records a status read of an accepted order: `update` (a read that found the order;
    /// `None` for a failed read, which changes nothing) changes the order and writes its
    /// `order.status_changed` event (source `sync`) and outbox row in one transaction,
    /// only when the status, vendor status or tracking differ from the stored ones; then
    /// `next` is scheduled and the claim released. Returns whether the order changed.
    pub async fn record_status(
        &self,
        id: &str,
        update: Option<StatusUpdate>,
        next: NextSync,
    ) -> Result<bool, LedgerError> {
        dispatch!(self, l => l.record_status(id, update, next).await)
    }

    /// How the writes were batched since open (group commit): batches by size.
    pub fn batch_stats(&self) -> BatchStats {
        dispatch!(self, l => l.batch_stats())
    }

    /// Writes queued and not yet taken into a batch. For tests that need to know a
    /// batch will hold several writes.
    #[doc(hidden)]
    pub fn queued_writes(&self) -> usize {
        dispatch!(self, l => l.queued_writes())
    }

    /// Runs the writes already queued, then closes the pools (waits for running
    /// statements); later calls fail.
    pub async fn close(&self) {
        dispatch!(self, l => l.close().await)
    }
}

const LEASE_EXPIRED_NOTE: &str = "in flight on a replica that stopped renewing its lease";
const RECOVERED_NOTE: &str = "in flight when the previous process stopped";
const STALE_NOTE: &str = "in flight for too long (its process is gone)";
const LINKED_NOTE: &str = "an operator linked the vendor's order id; the next retry looks it up";
const RESOLVED_NOTE: &str = "an operator found the order was not placed; the next retry places it";

/// One resolution as the store writes it (owned, for the batch writer).
struct ResolutionRow {
    id: String,
    resolution: &'static str,
    /// The answer shown until the retry (`not_placed`); `None` for `placed`.
    response: Option<String>,
    vendor_order_id: Option<String>,
    operator: String,
    reason: String,
    at: String,
    hooks: std::sync::Arc<std::collections::HashSet<String>>,
}

/// Whose account, with which details (see migration `customer_accounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountKey {
    pub client: String,
    pub connection: String,
    pub customer_ref: String,
    /// SHA-256 (hex) of the details the account was created from; never the details.
    pub fingerprint: String,
}

/// An account a vendor created, and the order that created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAccount {
    /// The canonical `vendorRefs[].kind` (`patient`).
    pub kind: String,
    pub vendor_id: String,
    pub order_id: String,
}

/// An operator's resolution of an `unknown` order, recorded with who and why.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub outcome: ResolvedAs,
    pub operator: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub enum ResolvedAs {
    /// The operator checked the vendor: the order is not there. `response` is what a read
    /// of the record shows until the caller's retry places it.
    NotPlaced { response: serde_json::Value },
    /// The vendor holds it under this id (verified by the caller of the ledger).
    Placed { vendor_order_id: String },
}

impl ResolvedAs {
    pub fn as_str(&self) -> &'static str {
        match self {
            ResolvedAs::NotPlaced { .. } => "not_placed",
            ResolvedAs::Placed { .. } => "placed",
        }
    }
}

/// Hex SHA-256, the form `NewRecord::body_hash` takes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn check_new(n: &NewRecord) -> Result<(), LedgerError> {
    for (name, v) in [
        ("id", &n.id),
        ("client", &n.client),
        ("idem_key", &n.idem_key),
    ] {
        if v.is_empty() {
            return Err(LedgerError::Invalid(format!("{name} is empty")));
        }
    }
    if n.body_hash.len() != 64 || !n.body_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(LedgerError::Invalid(
            "body_hash must be a hex SHA-256 (64 hex digits)".into(),
        ));
    }
    Ok(())
}

/// UTC, RFC 3339, always 6 fractional digits: fixed width, so text order is time order.
/// UTC, RFC 3339 with exactly six fraction digits (`2026-01-02T03:04:05.123456Z`): the
/// one timestamp shape of records and answers (fixed width, so text order is time order).
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// An error message with a secret taken out.
fn redact(e: &dyn std::fmt::Display, secret: &str) -> String {
    let s = e.to_string();
    if secret.is_empty() {
        s
    } else {
        s.replace(secret, "<redacted>")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn config_shapes() {
        let c: LedgerConfig =
            serde_json::from_str(r#"{"kind":"sqlite","path":"data/ledger.db"}"#).unwrap();
        assert_eq!(
            c,
            LedgerConfig::Sqlite {
                path: "data/ledger.db".into(),
                durability: Durability::Durable,
                max_batch: 64,
            }
        );
        let c: LedgerConfig = serde_json::from_str(
            r#"{"kind":"sqlite","path":"l.db","durability":"relaxed","maxBatch":8}"#,
        )
        .unwrap();
        assert_eq!(
            c,
            LedgerConfig::Sqlite {
                path: "l.db".into(),
                durability: Durability::Relaxed,
                max_batch: 8,
            }
        );
        assert!(
            serde_json::from_str::<LedgerConfig>(
                r#"{"kind":"sqlite","path":"x","durability":"fast"}"#
            )
            .is_err()
        );
        let c: LedgerConfig = serde_json::from_str(
            r#"{"kind":"postgres","url":"${LEDGER_DATABASE_URL}","maxConnections":4}"#,
        )
        .unwrap();
        assert_eq!(
            c,
            LedgerConfig::Postgres {
                url: "${LEDGER_DATABASE_URL}".into(),
                max_connections: 4,
                max_batch: 64,
            }
        );
        assert_eq!(
            c.secret_refs(),
            vec![Some("LEDGER_DATABASE_URL".to_owned())]
        );
        assert!(
            serde_json::from_str::<LedgerConfig>(r#"{"kind":"sqlite","path":"x","pth":"y"}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<LedgerConfig>(
                r#"{"kind":"postgres","url":"x","max_connections":4}"#
            )
            .is_err()
        );
    }

    #[test]
    fn debug_never_prints_a_literal_url() {
        let c = LedgerConfig::Postgres {
            url: "postgres://u:hunter2@db/x".into(),
            max_connections: 1,
            max_batch: 1,
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    /// One `${NAME}` parser everywhere: a URL wrapped in `${..}` by mistake is a literal
    /// (so the gateway's check refuses it outside a sandbox), and is never printed.
    #[test]
    fn a_url_in_reference_braces_is_a_literal_secret() {
        let c = LedgerConfig::Postgres {
            url: "${postgres://u:hunter2@db/x}".into(),
            max_connections: 1,
            max_batch: 1,
        };
        assert_eq!(c.secret_refs(), vec![None]);
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn timestamps_are_fixed_width_utc() {
        let t = OffsetDateTime::from_unix_timestamp(0).unwrap();
        assert_eq!(rfc3339(t), "1970-01-01T00:00:00.000000Z");
        let parsed = OffsetDateTime::parse(
            &rfc3339(OffsetDateTime::now_utc()),
            &time::format_description::well_known::Rfc3339,
        );
        assert!(parsed.is_ok());
    }

    #[test]
    fn a_driver_error_stays_the_source_of_a_db_error_and_its_text_the_message() {
        use std::error::Error as _;
        let e = LedgerError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(
            e.to_string(),
            format!("ledger database: {}", sqlx::Error::PoolTimedOut)
        );
        let source = e.source().unwrap();
        assert!(matches!(
            source
                .downcast_ref::<std::sync::Arc<sqlx::Error>>()
                .map(|a| &**a),
            Some(sqlx::Error::PoolTimedOut)
        ));
        assert!(LedgerError::db("the ledger is closed").source().is_none());
    }
}
