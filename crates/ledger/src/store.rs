//! The store logic, written once and instantiated for SQLite and PostgreSQL (`ledger_store!`).
//! Both run the same SQL text: `$N` parameters work in both, booleans are `TRUE`/`FALSE`,
//! and every guarded transition is one `UPDATE ... WHERE state IN (...)` whose row count
//! says whether it applied. Each backend module provides `ts(OffsetDateTime) -> Ts` (the
//! bound timestamp type) and `read_ts(&Row, &str) -> Result<String, LedgerError>`.
//! Writes go through the store's group-commit writer (`crate::batch`); reads go straight
//! to the read pool.

use std::collections::HashSet;
use std::sync::Arc;

use crate::LedgerError;
use crate::lifecycle::{EventKind, EventSource};
use crate::record::{Begin, Finish, Record, RecordState};

/// The record columns, as a macro so queries stay `&'static str` (sqlx audits dynamic SQL).
macro_rules! cols {
    () => {
        "id, client, order_ref, idem_key, body_hash, route, connection, vendor, state, vendor_order_id, vendor_status, attempts, http_status, response, never_sent, trace_id, created_at, updated_at, replay_token, lookup, note, status, tracking, sync_next_at"
    };
}

/// The newest order with this ref. Most orders carry no `Idempotency-Key`, so their key
/// is their ref and the key's unique index finds them; `orders_by_ref` holds only the
/// others (sqlite 0012 / postgres 0010), so the common insert writes one random-keyed
/// index page, not two.
pub(crate) const BY_REF: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM orders WHERE client = $1 AND idem_key = $2 AND order_ref = $2",
    " UNION ALL SELECT ",
    cols!(),
    " FROM orders WHERE client = $1 AND order_ref = $2 AND idem_key <> order_ref",
    " ORDER BY created_at DESC, id DESC LIMIT 1"
);

pub(crate) const BY_CLIENT_AND_ID: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM orders WHERE client = $1 AND id = $2"
);

pub(crate) const BY_KEY: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM orders WHERE client = $1 AND idem_key = $2"
);

/// A `finish`/`resolve_unknown` as the writer runs it: the guards are chosen and the
/// answer serialised before the write is queued, so input errors never reach a batch.
pub(crate) struct FinishWrite {
    /// May apply to an in-flight record (`received`/`sending`): its outcome event.
    pub from_flight: bool,
    /// May apply to an `unknown` record: `order.settled`.
    pub from_unknown: bool,
    pub source: EventSource,
    pub hooks: Arc<HashSet<String>>,
    pub id: String,
    pub state: &'static str,
    pub http_status: i32,
    pub response: String,
    pub vendor_order_id: Option<String>,
    pub vendor_status: Option<String>,
    pub never_sent: bool,
    /// The canonical status of an accepted answer (`response.status`).
    pub status: Option<String>,
    pub tracking: Option<String>,
    /// `orders.lookup`, `sync_next_at`, `sync_until` (status sync), accepted only.
    pub sync: Option<(String, String, String)>,
}

impl FinishWrite {
    pub fn new(
        (from_flight, from_unknown): (bool, bool),
        source: EventSource,
        hooks: Arc<HashSet<String>>,
        id: &str,
        f: Finish,
    ) -> Result<Self, LedgerError> {
        let response = serde_json::to_string(&f.response)
            .map_err(|e| LedgerError::Invalid(format!("response: {e}")))?;
        let accepted = f.state == RecordState::Accepted;
        let status = f
            .response
            .get("status")
            .and_then(serde_json::Value::as_str)
            .filter(|_| accepted)
            .map(str::to_owned);
        let tracking = f
            .response
            .get("tracking")
            .filter(|t| accepted && t.as_array().is_some_and(|a| !a.is_empty()))
            .map(serde_json::Value::to_string);
        let sync = match f.sync.filter(|_| accepted) {
            Some(s) => Some((
                serde_json::to_string(&s.handle)
                    .map_err(|e| LedgerError::Invalid(format!("sync handle: {e}")))?,
                crate::rfc3339(s.first_at),
                crate::rfc3339(s.until),
            )),
            None => None,
        };
        Ok(FinishWrite {
            status,
            tracking,
            sync,
            from_flight,
            from_unknown,
            source,
            hooks,
            id: id.to_owned(),
            state: f.state.as_str(),
            http_status: i32::from(f.http_status),
            response,
            never_sent: f.never_sent && f.state == RecordState::Failed,
            vendor_order_id: f.vendor_order_id,
            vendor_status: f.vendor_status,
        })
    }
}

impl FinishWrite {
    /// The guarded statements to try, in order, with the event each one's transition
    /// makes: from in flight (the outcome), then from `unknown` (`order.settled`).
    pub fn guards(&self) -> Result<Vec<(&'static str, EventKind)>, LedgerError> {
        let state = RecordState::parse(self.state)
            .ok_or_else(|| LedgerError::Invalid(format!("state {}", self.state)))?;
        let all = [
            (
                self.from_flight,
                FINISH_FROM_FLIGHT,
                EventKind::of_outcome(state),
            ),
            (self.from_unknown, FINISH_FROM_UNKNOWN, EventKind::Settled),
        ];
        Ok(all
            .into_iter()
            .filter(|g| g.0)
            .map(|(_, sql, kind)| (sql, kind))
            .collect())
    }
}

/// What a taken key's record means for a new `begin`.
pub(crate) enum Taken {
    /// The answer to the `begin`.
    Is(Begin),
    /// A `failed` + `never_sent` record: the caller tries to re-arm it.
    MayRearm(Record),
}

/// What the record holding a key means for a new `begin` with `body_hash`.
pub(crate) fn classify(rec: Record, body_hash: &str) -> Taken {
    if rec.body_hash != body_hash {
        return Taken::Is(Begin::Conflict(rec));
    }
    match rec.state {
        RecordState::Received | RecordState::Sending => Taken::Is(Begin::InProgress(rec)),
        RecordState::Unknown => Taken::Is(Begin::Unknown(rec)),
        RecordState::Failed if rec.never_sent => Taken::MayRearm(rec),
        RecordState::Accepted | RecordState::Rejected | RecordState::Failed => {
            Taken::Is(Begin::Replay(rec))
        }
    }
}

/// The state and attempt count a `begin` records: `sending` with its first attempt
/// when the caller sends now, else `received` with none.
pub(crate) fn begin_state(send_now: bool) -> (RecordState, i64) {
    if send_now {
        (RecordState::Sending, 1)
    } else {
        (RecordState::Received, 0)
    }
}

/// `begin` after its re-arm attempts kept losing (retries failing and re-arming under it).
pub(crate) fn unsettled(last: Option<Record>) -> Result<Begin, LedgerError> {
    match last {
        Some(rec) => Ok(Begin::InProgress(rec)),
        None => Err(LedgerError::db("begin did not settle")),
    }
}

/// A stored JSON column (`response`, `lookup`, `tracking`).
pub(crate) fn parse_stored(
    text: Option<&str>,
    what: &str,
) -> Result<Option<serde_json::Value>, LedgerError> {
    text.map(serde_json::from_str)
        .transpose()
        .map_err(|e| LedgerError::db(format!("stored {what}: {e}")))
}

/// One row's columns, whichever driver read it (sqlx for reads and for PostgreSQL's
/// writes, rusqlite for SQLite's writes), so a row becomes a record in one place.
pub(crate) trait Cols {
    fn text(&self, col: &str) -> Result<String, LedgerError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, LedgerError>;
    fn int(&self, col: &str) -> Result<i64, LedgerError>;
    fn opt_i32(&self, col: &str) -> Result<Option<i32>, LedgerError>;
    fn flag(&self, col: &str) -> Result<bool, LedgerError>;
    /// A timestamp as UTC RFC 3339 text (PostgreSQL stores `timestamptz`).
    fn time(&self, col: &str) -> Result<String, LedgerError>;
}

/// An `orders` row (`cols!()`) as a record.
pub(crate) fn record_from(r: &impl Cols) -> Result<Record, LedgerError> {
    let state = r.text("state")?;
    let response = r.opt_text("response")?;
    Ok(Record {
        id: r.text("id")?,
        client: r.text("client")?,
        order_ref: r.text("order_ref")?,
        idem_key: r.text("idem_key")?,
        body_hash: r.text("body_hash")?,
        route: r.text("route")?,
        connection: r.text("connection")?,
        vendor: r.text("vendor")?,
        state: RecordState::parse(&state)
            .ok_or_else(|| LedgerError::db(format!("unknown state {state}")))?,
        vendor_order_id: r.opt_text("vendor_order_id")?,
        vendor_status: r.opt_text("vendor_status")?,
        attempts: r.int("attempts")?,
        http_status: r
            .opt_i32("http_status")?
            .and_then(|s| u16::try_from(s).ok()),
        response: parse_stored(response.as_deref(), "response")?,
        response_text: response,
        never_sent: r.flag("never_sent")?,
        trace_id: r.opt_text("trace_id")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        replay_token: r.opt_text("replay_token")?,
        lookup: parse_stored(r.opt_text("lookup")?.as_deref(), "lookup")?,
        note: r.opt_text("note")?,
        status: r.opt_text("status")?,
        tracking: parse_stored(r.opt_text("tracking")?.as_deref(), "tracking")?,
        sync_next_at: r.opt_text("sync_next_at")?,
    })
}

/// A `webhook_outbox` row (`delivery_cols!()`).
pub(crate) fn delivery_from(r: &impl Cols) -> Result<crate::lifecycle::Delivery, LedgerError> {
    Ok(crate::lifecycle::Delivery {
        event_id: r.text("event_id")?,
        order_id: r.text("order_id")?,
        client: r.text("client")?,
        seq: r.int("seq")?,
        payload: r.text("payload")?,
        status: r.text("status")?,
        attempts: r.int("attempts")?,
        next_attempt_at: r.text("next_attempt_at")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.text("created_at")?,
        window_start: r.text("window_start")?,
    })
}

/// A claimed followed order (`claim_sync_sql!`).
pub(crate) fn sync_due_from(r: &impl Cols) -> Result<crate::sync::SyncDue, LedgerError> {
    Ok(crate::sync::SyncDue {
        id: r.text("id")?,
        client: r.text("client")?,
        connection: r.text("connection")?,
        vendor: r.text("vendor")?,
        handle: parse_stored(r.opt_text("lookup")?.as_deref(), "lookup")?.unwrap_or_default(),
        status: r.opt_text("status")?,
        vendor_status: r.opt_text("vendor_status")?,
        tracking: parse_stored(r.opt_text("tracking")?.as_deref(), "tracking")?,
        step: r.int("sync_step")?,
        until: r.opt_text("sync_until")?.unwrap_or_default(),
    })
}

/// `finish` to `unknown`: only from in flight.
pub(crate) const FINISH_UNKNOWN: (bool, bool) = (true, false);
/// `finish` to a terminal state: from `unknown` too, since the process that made the call
/// may record the truth after another replica's recovery marked its record unknown.
pub(crate) const FINISH_TERMINAL: (bool, bool) = (true, true);
/// `resolve_unknown`: only from `unknown`.
pub(crate) const RESOLVE_UNKNOWN: (bool, bool) = (false, true);

/// An outcome over an in-flight record. Two guarded statements (this one, then
/// `FINISH_FROM_UNKNOWN`) rather than one `state IN (...)`, so the event knows which
/// transition applied.
/// `$9..$13`: status, tracking, and the status sync's start (lookup, first read, horizon).
macro_rules! finish_set {
    () => {
        "UPDATE orders SET state = $1, http_status = $2, response = $3, vendor_order_id = $4, vendor_status = $5, never_sent = $6, updated_at = $7, status = $9, tracking = $10, lookup = COALESCE($11, lookup), sync_next_at = $12, sync_until = $13, sync_step = 0 "
    };
}
pub(crate) const FINISH_FROM_FLIGHT: &str = concat!(
    finish_set!(),
    "WHERE id = $8 AND state IN ('received', 'sending')",
    touched_cols!()
);
pub(crate) const FINISH_FROM_UNKNOWN: &str = concat!(
    finish_set!(),
    "WHERE id = $8 AND state = 'unknown'",
    touched_cols!()
);

pub(crate) const INSERT_ORDER: &str = concat!(
    "INSERT INTO orders (id, client, order_ref, idem_key, body_hash, route, connection, vendor, state, attempts, never_sent, trace_id, created_at, updated_at, holder) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $11, $12, $13, $14) ",
    "ON CONFLICT (client, idem_key) DO NOTHING RETURNING ",
    cols!()
);

pub(crate) const REARM: &str = concat!(
    "UPDATE orders SET state = $1, attempts = attempts + $2, never_sent = FALSE, ",
    "http_status = NULL, response = NULL, vendor_order_id = NULL, vendor_status = NULL, note = NULL, updated_at = $3, holder = $5 ",
    "WHERE id = $4 AND state = 'failed' AND never_sent = TRUE RETURNING ",
    cols!()
);

pub(crate) const MARK_SENDING: &str = "UPDATE orders SET state = 'sending', attempts = attempts + 1, updated_at = $1, holder = $3 WHERE id = $2 AND state = 'received'";

pub(crate) const SET_UNKNOWN: &str = concat!(
    "UPDATE orders SET state = 'unknown', note = $1, updated_at = $2 WHERE id = $3 AND state IN ('received', 'sending')",
    touched_cols!()
);

pub(crate) const RESOLVE_NOT_PLACED: &str = concat!(
    "UPDATE orders SET state = 'failed', never_sent = TRUE, http_status = 503, response = $1, note = $2, updated_at = $3 WHERE id = $4 AND state = 'unknown'",
    touched_cols!()
);

pub(crate) const RESOLVE_PLACED: &str = concat!(
    "UPDATE orders SET vendor_order_id = $1, note = $2, updated_at = $3 WHERE id = $4 AND state = 'unknown'",
    touched_cols!()
);

pub(crate) const INSERT_RESOLUTION: &str = "INSERT INTO order_resolutions (order_id, resolution, vendor_order_id, operator, reason, resolved_at) VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const LINK_VENDOR_ORDER: &str = "UPDATE orders SET vendor_order_id = $1, note = $2, updated_at = $3 WHERE id = $4 AND state = 'unknown'";

pub(crate) const SET_RECONCILE_INFO: &str =
    "UPDATE orders SET replay_token = $1, lookup = $2, updated_at = $3 WHERE id = $4";

pub(crate) const RECOVER_BEFORE: &str = concat!(
    "UPDATE orders SET state = 'unknown', note = $1, updated_at = $2 WHERE state IN ('received', 'sending') AND updated_at <= $3",
    touched_cols!()
);

pub(crate) const REMEMBER_ACCOUNT: &str = concat!(
    "INSERT INTO customer_accounts (client, connection, customer_ref, fingerprint, kind, vendor_id, order_id, created_at) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
);

pub(crate) const RENEW_LEASE: &str = "INSERT INTO replica_leases (holder, expires_at) VALUES ($1, $2) ON CONFLICT (holder) DO UPDATE SET expires_at = excluded.expires_at";

pub(crate) const RELEASE_LEASE: &str = "DELETE FROM replica_leases WHERE holder = $1";

pub(crate) const RECOVER_EXPIRED: &str = concat!(
    "UPDATE orders SET state = 'unknown', note = $1, updated_at = $2 ",
    "WHERE state IN ('received', 'sending') AND holder IS NOT NULL AND holder <> $3 ",
    "AND NOT EXISTS (SELECT 1 FROM replica_leases l WHERE l.holder = orders.holder AND l.expires_at > $4)",
    touched_cols!()
);

pub(crate) const PRUNE_LEASES: &str = "DELETE FROM replica_leases WHERE expires_at < $1";

/// The backend module names its connection `Conn`, its row `Row` and its database `Db`,
/// and provides `ts`, `now` and `read_ts`; the store keeps its batch writer in `writer`.
///
/// Every write is a `write_*` function over the batch's connection, queued with
/// `self.writer.submit(data, |c, d| Box::pin(write_x(c, d)))`: it runs inside the batch's
/// transaction (and again alone if another write in the batch fails), so it must read
/// only its own data and see the database through `c` (earlier writes of the same batch
/// are visible there, not yet through the read pool).
macro_rules! ledger_store {
    ($store:ident) => {
        impl $store {
            /// Claims the key or reports what holds it. `send_now` records the new (or
            /// re-armed) record as `sending` with one more attempt, saving the caller a
            /// `mark_sending` round trip.
            pub(crate) async fn begin(
                &self,
                n: NewRecord,
                send_now: bool,
            ) -> Result<Begin, LedgerError> {
                crate::check_new(&n)?;
                self.writer
                    .submit((n, send_now, self.holder.clone()), |c, d| {
                        Box::pin(write_begin(c, &d.0, d.1, &d.2))
                    })
                    .await
            }

            pub(crate) async fn mark_sending(&self, id: &str) -> Result<bool, LedgerError> {
                self.writer
                    .submit((id.to_owned(), self.holder.clone()), |c, d| {
                        Box::pin(write_mark_sending(c, &d.0, &d.1))
                    })
                    .await
            }

            pub(crate) async fn finish(&self, id: &str, f: Finish) -> Result<bool, LedgerError> {
                let sql = match f.state {
                    RecordState::Unknown => crate::store::FINISH_UNKNOWN,
                    s if s.is_terminal() => crate::store::FINISH_TERMINAL,
                    s => {
                        return Err(LedgerError::Invalid(format!(
                            "finish needs accepted, rejected, failed or unknown, not {s}"
                        )));
                    }
                };
                let w = crate::store::FinishWrite::new(
                    sql,
                    crate::lifecycle::EventSource::Create,
                    self.hooks.snapshot(),
                    id,
                    f,
                )?;
                self.apply_finish(w).await
            }

            pub(crate) async fn resolve_unknown(
                &self,
                id: &str,
                f: Finish,
            ) -> Result<bool, LedgerError> {
                if !f.state.is_terminal() {
                    return Err(LedgerError::Invalid(format!(
                        "an unknown order resolves to accepted, rejected or failed, not {}",
                        f.state
                    )));
                }
                let w = crate::store::FinishWrite::new(
                    crate::store::RESOLVE_UNKNOWN,
                    crate::lifecycle::EventSource::Reconcile,
                    self.hooks.snapshot(),
                    id,
                    f,
                )?;
                self.apply_finish(w).await
            }

            async fn apply_finish(
                &self,
                w: crate::store::FinishWrite,
            ) -> Result<bool, LedgerError> {
                self.writer
                    .submit_atomic(w, |c, w| Box::pin(write_finish(c, w)))
                    .await
            }

            pub(crate) async fn set_unknown(
                &self,
                id: &str,
                reason: &str,
            ) -> Result<bool, LedgerError> {
                let d = (id.to_owned(), reason.to_owned(), self.hooks.snapshot());
                self.writer
                    .submit_atomic(d, |c, d| Box::pin(write_set_unknown(c, &d.0, &d.1, &d.2)))
                    .await
            }

            pub(crate) async fn link_vendor_order(
                &self,
                id: &str,
                vendor_order_id: &str,
            ) -> Result<bool, LedgerError> {
                self.writer
                    .submit((id.to_owned(), vendor_order_id.to_owned()), |c, d| {
                        Box::pin(write_link_vendor_order(c, &d.0, &d.1))
                    })
                    .await
            }

            /// An operator's resolution of an `unknown` record, with its audit row, in one
            /// transaction. `NotPlaced` makes it `failed` + `never_sent`, so the caller's
            /// retry places it; `Placed` links the vendor's id (the retry looks it up).
            pub(crate) async fn resolve_by_operator(
                &self,
                id: &str,
                r: &Resolution,
            ) -> Result<bool, LedgerError> {
                let (response, vendor_order_id) = match &r.outcome {
                    ResolvedAs::NotPlaced { response } => (
                        Some(serde_json::to_string(response).map_err(|e| {
                            LedgerError::Invalid(format!("response: {e}"))
                        })?),
                        None,
                    ),
                    ResolvedAs::Placed { vendor_order_id } => (None, Some(vendor_order_id.clone())),
                };
                let d = ResolutionRow {
                    id: id.to_owned(),
                    resolution: r.outcome.as_str(),
                    response,
                    vendor_order_id,
                    operator: r.operator.clone(),
                    reason: r.reason.clone(),
                    at: crate::rfc3339(time::OffsetDateTime::now_utc()),
                    hooks: self.hooks.snapshot(),
                };
                self.writer
                    .submit_atomic(d, |c, d| Box::pin(write_resolution(c, d)))
                    .await
            }

            /// Another record that holds this vendor order id, if any.
            pub(crate) async fn holder_of_vendor_order(
                &self,
                connection: &str,
                vendor_order_id: &str,
            ) -> Result<Option<String>, LedgerError> {
                let row: Option<(String,)> = sqlx::query_as(
                    "SELECT id FROM orders WHERE connection = $1 AND vendor_order_id = $2 LIMIT 1",
                )
                .bind(connection)
                .bind(vendor_order_id)
                .fetch_optional(self.reads())
                .await?;
                Ok(row.map(|(id,)| id))
            }

            pub(crate) async fn set_reconcile_info(
                &self,
                id: &str,
                replay_token: Option<&str>,
                lookup: Option<&serde_json::Value>,
            ) -> Result<bool, LedgerError> {
                let lookup = lookup
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(|e| LedgerError::Invalid(format!("lookup: {e}")))?;
                let d = (id.to_owned(), replay_token.map(str::to_owned), lookup);
                self.writer
                    .submit(d, |c, d| {
                        Box::pin(write_reconcile_info(c, &d.0, d.1.as_deref(), d.2.as_deref()))
                    })
                    .await
            }

            /// Every in-flight record (`received`/`sending`) last touched before `cutoff`
            /// becomes `unknown`.
            pub(crate) async fn recover_before(
                &self,
                cutoff: time::OffsetDateTime,
                note: &'static str,
            ) -> Result<u64, LedgerError> {
                let d = (cutoff, note, self.hooks.snapshot());
                self.writer
                    .submit_atomic(d, |c, d| Box::pin(write_recover_before(c, d.0, d.1, &d.2)))
                    .await
            }

            /// The account remembered for this customer and details, if any.
            pub(crate) async fn known_account(
                &self,
                key: &crate::AccountKey,
            ) -> Result<Option<crate::KnownAccount>, LedgerError> {
                let row: Option<(String, String, String)> = sqlx::query_as(
                    "SELECT kind, vendor_id, order_id FROM customer_accounts WHERE client = $1 AND connection = $2 AND customer_ref = $3 AND fingerprint = $4",
                )
                .bind(&key.client)
                .bind(&key.connection)
                .bind(&key.customer_ref)
                .bind(&key.fingerprint)
                .fetch_optional(self.reads())
                .await?;
                Ok(row.map(|(kind, vendor_id, order_id)| crate::KnownAccount {
                    kind,
                    vendor_id,
                    order_id,
                }))
            }

            /// Remembers an account the vendor created; the first one for a key stays.
            pub(crate) async fn remember_account(
                &self,
                key: &crate::AccountKey,
                account: &crate::KnownAccount,
            ) -> Result<(), LedgerError> {
                let d = (key.clone(), account.clone());
                self.writer
                    .submit(d, |c, d| Box::pin(write_remember_account(c, &d.0, &d.1)))
                    .await
            }

            /// This process's holder name (written on every record it puts in flight).
            pub(crate) fn holder(&self) -> &str {
                &self.holder
            }

            /// Extends this process's lease to `now + ttl` (creating it on first call).
            pub(crate) async fn renew_lease(&self, ttl: std::time::Duration) -> Result<(), LedgerError> {
                let until = time::OffsetDateTime::now_utc() + ttl;
                self.writer
                    .submit((self.holder.clone(), until), |c, d| {
                        Box::pin(write_renew_lease(c, &d.0, d.1))
                    })
                    .await
            }

            /// Ends this process's lease (a clean stop): what it left in flight is
            /// abandoned now, not at the expiry.
            pub(crate) async fn release_lease(&self) -> Result<(), LedgerError> {
                self.writer
                    .submit(self.holder.clone(), |c, h| Box::pin(write_release_lease(c, h)))
                    .await
            }

            /// In-flight records held by another process whose lease expired (or was
            /// released) become `unknown`; expired leases older than a day are dropped.
            pub(crate) async fn recover_expired_holders(
                &self,
                note: &'static str,
            ) -> Result<u64, LedgerError> {
                let d = (self.holder.clone(), note, self.hooks.snapshot());
                self.writer
                    .submit_atomic(d, |c, d| {
                        Box::pin(write_recover_expired_holders(c, &d.0, d.1, &d.2))
                    })
                    .await
            }

            /// Batches by size since open (also the `ledger_batch_size` histogram).
            pub(crate) fn batch_stats(&self) -> crate::BatchStats {
                self.writer.stats()
            }

            pub(crate) fn queued_writes(&self) -> usize {
                self.writer.queued()
            }

            /// Any client's record: for operators, who work by order id.
            pub(crate) async fn get_by_id(&self, id: &str) -> Result<Option<Record>, LedgerError> {
                let row = sqlx::query(concat!("SELECT ", cols!(), " FROM orders WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(self.reads())
                    .await?;
                row.as_ref().map(to_record).transpose()
            }

            pub(crate) async fn get(
                &self,
                client: &str,
                id: &str,
            ) -> Result<Option<Record>, LedgerError> {
                one(self.reads(), crate::store::BY_CLIENT_AND_ID, client, id).await
            }

            pub(crate) async fn find_by_ref(
                &self,
                client: &str,
                order_ref: &str,
            ) -> Result<Option<Record>, LedgerError> {
                one(self.reads(), crate::store::BY_REF, client, order_ref).await
            }

            pub(crate) async fn find_by_key(
                &self,
                client: &str,
                key: &str,
            ) -> Result<Option<Record>, LedgerError> {
                one(self.reads(), crate::store::BY_KEY, client, key).await
            }

            /// Ids are UUIDv7 (time-ordered), so `id > after` pages in creation order.
            pub(crate) async fn list_by_state(
                &self,
                state: RecordState,
                after: &str,
                limit: u32,
            ) -> Result<Vec<Record>, LedgerError> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    cols!(),
                    " FROM orders WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3"
                ))
                .bind(state.as_str())
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(self.reads())
                .await?;
                rows.iter().map(to_record).collect()
            }

            pub(crate) async fn count_by_state(
                &self,
            ) -> Result<Vec<(RecordState, u64)>, LedgerError> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as("SELECT state, COUNT(*) FROM orders GROUP BY state")
                        .fetch_all(self.reads())
                        .await?;
                let mut out: Vec<(RecordState, u64)> =
                    RecordState::ALL.iter().map(|s| (*s, 0)).collect();
                for (state, n) in rows {
                    let state = RecordState::parse(&state)
                        .ok_or_else(|| LedgerError::db(format!("unknown state {state}")))?;
                    if let Some(slot) = out.iter_mut().find(|(s, _)| *s == state) {
                        slot.1 = u64::try_from(n).unwrap_or(0);
                    }
                }
                Ok(out)
            }

            pub(crate) async fn count_in_state(&self, state: RecordState) -> Result<u64, LedgerError> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE state = $1")
                    .bind(state.as_str())
                    .fetch_one(self.reads())
                    .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }

        /// One of a client's records by a second column, through a pool or a batch.
        async fn one<'e, E: sqlx::Executor<'e, Database = Db>>(
            ex: E,
            sql: &'static str,
            client: &str,
            value: &str,
        ) -> Result<Option<Record>, LedgerError> {
            let row = sqlx::query(sql)
                .bind(client)
                .bind(value)
                .fetch_optional(ex)
                .await?;
            row.as_ref().map(to_record).transpose()
        }

        fn to_record(r: &Row) -> Result<Record, LedgerError> {
            crate::store::record_from(r)
        }

        impl crate::store::Cols for Row {
            fn text(&self, col: &str) -> Result<String, LedgerError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, LedgerError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn int(&self, col: &str) -> Result<i64, LedgerError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_i32(&self, col: &str) -> Result<Option<i32>, LedgerError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn flag(&self, col: &str) -> Result<bool, LedgerError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn time(&self, col: &str) -> Result<String, LedgerError> {
                read_ts(self, col)
            }
        }
    };
}

/// The writes over a sqlx connection (PostgreSQL), each a `write_*` function as the
/// methods of `ledger_store!` queue them. SQLite has its own (`crate::sqlite_writes`).
macro_rules! ledger_writes {
    () => {
        async fn write_begin(
            c: &mut Conn,
            n: &NewRecord,
            send_now: bool,
            holder: &str,
        ) -> Result<Begin, LedgerError> {
            let ts = now();
            let (state, attempts) = crate::store::begin_state(send_now);
            let inserted = sqlx::query(crate::store::INSERT_ORDER)
                .bind(&n.id)
                .bind(&n.client)
                .bind(&n.order_ref)
                .bind(&n.idem_key)
                .bind(&n.body_hash)
                .bind(&n.route)
                .bind(&n.connection)
                .bind(&n.vendor)
                .bind(state.as_str())
                .bind(attempts)
                .bind(&n.trace_id)
                .bind(ts.clone())
                .bind(ts)
                .bind(holder)
                .fetch_optional(&mut *c)
                .await?;
            match inserted {
                Some(row) => Ok(Begin::Started(to_record(&row)?)),
                None => classify_holder(c, n, state, attempts, holder).await,
            }
        }

        /// The key is taken. Records are never deleted, so it can be read; a lost re-arm
        /// race (another replica re-armed it first) means it changed: read and classify again.
        async fn classify_holder(
            c: &mut Conn,
            n: &NewRecord,
            state: RecordState,
            attempts: i64,
            holder: &str,
        ) -> Result<Begin, LedgerError> {
            let mut last = None;
            for _ in 0..4 {
                let Some(rec) = one(&mut *c, crate::store::BY_KEY, &n.client, &n.idem_key).await?
                else {
                    return Err(LedgerError::db(
                        "the record holding this idempotency key vanished",
                    ));
                };
                match crate::store::classify(rec, &n.body_hash) {
                    crate::store::Taken::Is(begin) => return Ok(begin),
                    crate::store::Taken::MayRearm(rec) => {
                        if let Some(r) = write_rearm(c, &rec.id, state, attempts, holder).await? {
                            return Ok(Begin::Retry(r));
                        }
                        last = Some(rec);
                    }
                }
            }
            crate::store::unsettled(last)
        }

        /// `failed` + `never_sent` -> `state`, in one guarded UPDATE: one winner.
        async fn write_rearm(
            c: &mut Conn,
            id: &str,
            state: RecordState,
            extra_attempts: i64,
            holder: &str,
        ) -> Result<Option<Record>, LedgerError> {
            let row = sqlx::query(crate::store::REARM)
                .bind(state.as_str())
                .bind(extra_attempts)
                .bind(now())
                .bind(id)
                .bind(holder)
                .fetch_optional(c)
                .await?;
            row.as_ref().map(to_record).transpose()
        }

        async fn write_mark_sending(
            c: &mut Conn,
            id: &str,
            holder: &str,
        ) -> Result<bool, LedgerError> {
            let n = sqlx::query(crate::store::MARK_SENDING)
                .bind(now())
                .bind(id)
                .bind(holder)
                .execute(c)
                .await?
                .rows_affected();
            Ok(n == 1)
        }

        async fn write_finish(
            c: &mut Conn,
            w: &crate::store::FinishWrite,
        ) -> Result<bool, LedgerError> {
            use crate::lifecycle::NewEvent;
            for (sql, kind) in w.guards()? {
                let row: Option<crate::lifecycle::Touched> = sqlx::query_as(sql)
                    .bind(w.state)
                    .bind(w.http_status)
                    .bind(&w.response)
                    .bind(&w.vendor_order_id)
                    .bind(&w.vendor_status)
                    .bind(w.never_sent)
                    .bind(now())
                    .bind(&w.id)
                    .bind(&w.status)
                    .bind(&w.tracking)
                    .bind(w.sync.as_ref().map(|s| s.0.clone()))
                    .bind(w.sync.as_ref().map(|s| s.1.clone()))
                    .bind(w.sync.as_ref().map(|s| s.2.clone()))
                    .fetch_optional(&mut *c)
                    .await?;
                if let Some(row) = row {
                    let mut e = NewEvent::new(&row, kind, w.source);
                    e.tracking = w.tracking.as_deref();
                    write_event(c, &e, &w.hooks).await?;
                    return Ok(true);
                }
            }
            Ok(false)
        }

        async fn write_set_unknown(
            c: &mut Conn,
            id: &str,
            reason: &str,
            hooks: &std::collections::HashSet<String>,
        ) -> Result<bool, LedgerError> {
            use crate::lifecycle::{EventKind, EventSource, NewEvent};
            let row: Option<crate::lifecycle::Touched> = sqlx::query_as(crate::store::SET_UNKNOWN)
                .bind(reason)
                .bind(now())
                .bind(id)
                .fetch_optional(&mut *c)
                .await?;
            let Some(row) = row else { return Ok(false) };
            let e = NewEvent::new(&row, EventKind::Unknown, EventSource::Create);
            write_event(c, &e, hooks).await?;
            Ok(true)
        }

        /// The record's transition and its audit row, in the batch's transaction.
        async fn write_resolution(c: &mut Conn, d: &ResolutionRow) -> Result<bool, LedgerError> {
            use crate::lifecycle::{EventKind, EventSource, NewEvent};
            let ts = now();
            let row: Option<crate::lifecycle::Touched> = match &d.response {
                Some(response) => {
                    sqlx::query_as(crate::store::RESOLVE_NOT_PLACED)
                        .bind(response)
                        .bind(crate::RESOLVED_NOTE)
                        .bind(ts)
                        .bind(&d.id)
                        .fetch_optional(&mut *c)
                        .await?
                }
                None => {
                    sqlx::query_as(crate::store::RESOLVE_PLACED)
                        .bind(&d.vendor_order_id)
                        .bind(crate::LINKED_NOTE)
                        .bind(ts)
                        .bind(&d.id)
                        .fetch_optional(&mut *c)
                        .await?
                }
            };
            let Some(row) = row else { return Ok(false) };
            // `placed` only links the vendor's id: the record stays `unknown` until a
            // lookup at the vendor confirms it (that settlement is the event).
            if d.response.is_some() {
                let e = NewEvent::new(&row, EventKind::Settled, EventSource::Operator)
                    .with_resolution(d.resolution);
                write_event(c, &e, &d.hooks).await?;
            }
            sqlx::query(crate::store::INSERT_RESOLUTION)
                .bind(&d.id)
                .bind(d.resolution)
                .bind(&d.vendor_order_id)
                .bind(&d.operator)
                .bind(&d.reason)
                .bind(&d.at)
                .execute(&mut *c)
                .await?;
            Ok(true)
        }

        async fn write_link_vendor_order(
            c: &mut Conn,
            id: &str,
            vendor_order_id: &str,
        ) -> Result<bool, LedgerError> {
            let n = sqlx::query(crate::store::LINK_VENDOR_ORDER)
                .bind(vendor_order_id)
                .bind(crate::LINKED_NOTE)
                .bind(now())
                .bind(id)
                .execute(c)
                .await?
                .rows_affected();
            Ok(n == 1)
        }

        async fn write_reconcile_info(
            c: &mut Conn,
            id: &str,
            replay_token: Option<&str>,
            lookup: Option<&str>,
        ) -> Result<bool, LedgerError> {
            let n = sqlx::query(crate::store::SET_RECONCILE_INFO)
                .bind(replay_token)
                .bind(lookup)
                .bind(now())
                .bind(id)
                .execute(c)
                .await?
                .rows_affected();
            Ok(n == 1)
        }

        /// The `order.unknown` event of each record a recovery marked unknown; how many.
        async fn recovered_events(
            c: &mut Conn,
            rows: &[crate::lifecycle::Touched],
            hooks: &std::collections::HashSet<String>,
        ) -> Result<u64, LedgerError> {
            use crate::lifecycle::{EventKind, EventSource, NewEvent};
            for row in rows {
                let e = NewEvent::new(row, EventKind::Unknown, EventSource::Recovery);
                write_event(c, &e, hooks).await?;
            }
            Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
        }

        async fn write_recover_before(
            c: &mut Conn,
            cutoff: time::OffsetDateTime,
            note: &str,
            hooks: &std::collections::HashSet<String>,
        ) -> Result<u64, LedgerError> {
            let rows: Vec<crate::lifecycle::Touched> = sqlx::query_as(crate::store::RECOVER_BEFORE)
                .bind(note)
                .bind(now())
                .bind(ts(cutoff))
                .fetch_all(&mut *c)
                .await?;
            recovered_events(c, &rows, hooks).await
        }

        async fn write_remember_account(
            c: &mut Conn,
            key: &crate::AccountKey,
            a: &crate::KnownAccount,
        ) -> Result<(), LedgerError> {
            sqlx::query(crate::store::REMEMBER_ACCOUNT)
                .bind(&key.client)
                .bind(&key.connection)
                .bind(&key.customer_ref)
                .bind(&key.fingerprint)
                .bind(&a.kind)
                .bind(&a.vendor_id)
                .bind(&a.order_id)
                .bind(crate::rfc3339(time::OffsetDateTime::now_utc()))
                .execute(c)
                .await?;
            Ok(())
        }

        async fn write_renew_lease(
            c: &mut Conn,
            holder: &str,
            until: time::OffsetDateTime,
        ) -> Result<(), LedgerError> {
            sqlx::query(crate::store::RENEW_LEASE)
                .bind(holder)
                .bind(ts(until))
                .execute(c)
                .await?;
            Ok(())
        }

        async fn write_release_lease(c: &mut Conn, holder: &str) -> Result<(), LedgerError> {
            sqlx::query(crate::store::RELEASE_LEASE)
                .bind(holder)
                .execute(c)
                .await?;
            Ok(())
        }

        async fn write_recover_expired_holders(
            c: &mut Conn,
            me: &str,
            note: &str,
            hooks: &std::collections::HashSet<String>,
        ) -> Result<u64, LedgerError> {
            let now_ts = time::OffsetDateTime::now_utc();
            let rows: Vec<crate::lifecycle::Touched> =
                sqlx::query_as(crate::store::RECOVER_EXPIRED)
                    .bind(note)
                    .bind(now())
                    .bind(me)
                    .bind(ts(now_ts))
                    .fetch_all(&mut *c)
                    .await?;
            let n = recovered_events(c, &rows, hooks).await?;
            // A holder's row is only needed while it may still hold records in flight.
            sqlx::query(crate::store::PRUNE_LEASES)
                .bind(ts(now_ts - time::Duration::days(1)))
                .execute(c)
                .await?;
            Ok(n)
        }
    };
}
