//! The SQLite store's writes, on the writer thread's rusqlite connection
//! (`crate::sqlite_writer`). Each is the PostgreSQL write of the same name
//! (`ledger_writes!`, `lifecycle_writes!`) with the same SQL (`crate::store`,
//! `crate::lifecycle` constants); they are `async fn` only so the store's methods queue
//! them alike, and never await.

use std::collections::HashSet;

use rusqlite::Connection;
use rusqlite::types::ToSql;

use crate::lifecycle::{Attempted, Claim, Delivery, EventKind, EventSource, NewEvent, Touched};
use crate::record::{Begin, NewRecord, Record, RecordState};
use crate::sqlite_writer::{exec, row, rows};
use crate::store::FinishWrite;
use crate::sync::{StatusWrite, SyncDue};
use crate::{AccountKey, KnownAccount, LedgerError, ResolutionRow};

fn now() -> String {
    crate::rfc3339(time::OffsetDateTime::now_utc())
}

pub(crate) async fn write_begin(
    c: &mut Connection,
    n: &NewRecord,
    send_now: bool,
    holder: &str,
) -> Result<Begin, LedgerError> {
    let ts = now();
    let (state, attempts) = crate::store::begin_state(send_now);
    let inserted = row(
        c,
        crate::store::INSERT_ORDER,
        &[
            &n.id,
            &n.client,
            &n.order_ref,
            &n.idem_key,
            &n.body_hash,
            &n.route,
            &n.connection,
            &n.vendor,
            &state.as_str(),
            &attempts,
            &n.trace_id,
            &ts,
            &ts,
            &holder,
        ],
        to_record,
    )?;
    match inserted {
        Some(rec) => Ok(Begin::Started(rec)),
        None => classify_holder(c, n, state, attempts, holder),
    }
}

/// The key is taken: what holds it (see the PostgreSQL `classify_holder`).
fn classify_holder(
    c: &mut Connection,
    n: &NewRecord,
    state: RecordState,
    attempts: i64,
    holder: &str,
) -> Result<Begin, LedgerError> {
    let mut last = None;
    for _ in 0..4 {
        let Some(rec) = row(
            c,
            crate::store::BY_KEY,
            &[&n.client, &n.idem_key],
            to_record,
        )?
        else {
            return Err(LedgerError::db(
                "the record holding this idempotency key vanished",
            ));
        };
        match crate::store::classify(rec, &n.body_hash) {
            crate::store::Taken::Is(begin) => return Ok(begin),
            crate::store::Taken::MayRearm(rec) => {
                let rearmed = row(
                    c,
                    crate::store::REARM,
                    &[&state.as_str(), &attempts, &now(), &rec.id, &holder],
                    to_record,
                )?;
                if let Some(r) = rearmed {
                    return Ok(Begin::Retry(r));
                }
                last = Some(rec);
            }
        }
    }
    crate::store::unsettled(last)
}

pub(crate) async fn write_mark_sending(
    c: &mut Connection,
    id: &str,
    holder: &str,
) -> Result<bool, LedgerError> {
    let n = exec(c, crate::store::MARK_SENDING, &[&now(), &id, &holder])?;
    Ok(n == 1)
}

pub(crate) async fn write_finish(c: &mut Connection, w: &FinishWrite) -> Result<bool, LedgerError> {
    for (sql, kind) in w.guards()? {
        let touched = row(
            c,
            sql,
            &[
                &w.state,
                &w.http_status,
                &w.response,
                &w.vendor_order_id,
                &w.vendor_status,
                &w.never_sent,
                &now(),
                &w.id,
                &w.status,
                &w.tracking,
                &w.sync.as_ref().map(|s| s.0.as_str()),
                &w.sync.as_ref().map(|s| s.1.as_str()),
                &w.sync.as_ref().map(|s| s.2.as_str()),
            ],
            to_touched,
        )?;
        if let Some(t) = touched {
            let mut e = NewEvent::new(&t, kind, w.source);
            e.tracking = w.tracking.as_deref();
            write_event(c, &e, &w.hooks)?;
            return Ok(true);
        }
    }
    Ok(false)
}

pub(crate) async fn write_set_unknown(
    c: &mut Connection,
    id: &str,
    reason: &str,
    hooks: &HashSet<String>,
) -> Result<bool, LedgerError> {
    let touched = row(
        c,
        crate::store::SET_UNKNOWN,
        &[&reason, &now(), &id],
        to_touched,
    )?;
    let Some(t) = touched else { return Ok(false) };
    write_event(
        c,
        &NewEvent::new(&t, EventKind::Unknown, EventSource::Create),
        hooks,
    )?;
    Ok(true)
}

pub(crate) async fn write_resolution(
    c: &mut Connection,
    d: &ResolutionRow,
) -> Result<bool, LedgerError> {
    let ts = now();
    let touched = match &d.response {
        Some(response) => row(
            c,
            crate::store::RESOLVE_NOT_PLACED,
            &[response, &crate::RESOLVED_NOTE, &ts, &d.id],
            to_touched,
        )?,
        None => row(
            c,
            crate::store::RESOLVE_PLACED,
            &[&d.vendor_order_id, &crate::LINKED_NOTE, &ts, &d.id],
            to_touched,
        )?,
    };
    let Some(t) = touched else { return Ok(false) };
    // `placed` only links the vendor's id: the record stays `unknown` until a lookup at
    // the vendor confirms it (that settlement is the event).
    if d.response.is_some() {
        let e = NewEvent::new(&t, EventKind::Settled, EventSource::Operator)
            .with_resolution(d.resolution);
        write_event(c, &e, &d.hooks)?;
    }
    exec(
        c,
        crate::store::INSERT_RESOLUTION,
        &[
            &d.id,
            &d.resolution,
            &d.vendor_order_id,
            &d.operator,
            &d.reason,
            &d.at,
        ],
    )?;
    Ok(true)
}

pub(crate) async fn write_link_vendor_order(
    c: &mut Connection,
    id: &str,
    vendor_order_id: &str,
) -> Result<bool, LedgerError> {
    let n = exec(
        c,
        crate::store::LINK_VENDOR_ORDER,
        &[&vendor_order_id, &crate::LINKED_NOTE, &now(), &id],
    )?;
    Ok(n == 1)
}

pub(crate) async fn write_reconcile_info(
    c: &mut Connection,
    id: &str,
    replay_token: Option<&str>,
    lookup: Option<&str>,
) -> Result<bool, LedgerError> {
    let n = exec(
        c,
        crate::store::SET_RECONCILE_INFO,
        &[&replay_token, &lookup, &now(), &id],
    )?;
    Ok(n == 1)
}

/// The `order.unknown` event of each record a recovery marked unknown; how many.
fn recovered_events(
    c: &mut Connection,
    touched: &[Touched],
    hooks: &HashSet<String>,
) -> Result<u64, LedgerError> {
    for t in touched {
        let e = NewEvent::new(t, EventKind::Unknown, EventSource::Recovery);
        write_event(c, &e, hooks)?;
    }
    Ok(u64::try_from(touched.len()).unwrap_or(u64::MAX))
}

pub(crate) async fn write_recover_before(
    c: &mut Connection,
    cutoff: time::OffsetDateTime,
    note: &str,
    hooks: &HashSet<String>,
) -> Result<u64, LedgerError> {
    let touched = rows(
        c,
        crate::store::RECOVER_BEFORE,
        &[&note, &now(), &crate::rfc3339(cutoff)],
        to_touched,
    )?;
    recovered_events(c, &touched, hooks)
}

pub(crate) async fn write_remember_account(
    c: &mut Connection,
    key: &AccountKey,
    a: &KnownAccount,
) -> Result<(), LedgerError> {
    exec(
        c,
        crate::store::REMEMBER_ACCOUNT,
        &[
            &key.client,
            &key.connection,
            &key.customer_ref,
            &key.fingerprint,
            &a.kind,
            &a.vendor_id,
            &a.order_id,
            &now(),
        ],
    )?;
    Ok(())
}

pub(crate) async fn write_renew_lease(
    c: &mut Connection,
    holder: &str,
    until: time::OffsetDateTime,
) -> Result<(), LedgerError> {
    exec(
        c,
        crate::store::RENEW_LEASE,
        &[&holder, &crate::rfc3339(until)],
    )?;
    Ok(())
}

pub(crate) async fn write_release_lease(
    c: &mut Connection,
    holder: &str,
) -> Result<(), LedgerError> {
    exec(c, crate::store::RELEASE_LEASE, &[&holder])?;
    Ok(())
}

pub(crate) async fn write_recover_expired_holders(
    c: &mut Connection,
    me: &str,
    note: &str,
    hooks: &HashSet<String>,
) -> Result<u64, LedgerError> {
    let now_ts = time::OffsetDateTime::now_utc();
    let touched = rows(
        c,
        crate::store::RECOVER_EXPIRED,
        &[&note, &now(), &me, &crate::rfc3339(now_ts)],
        to_touched,
    )?;
    let n = recovered_events(c, &touched, hooks)?;
    // A holder's row is only needed while it may still hold records in flight.
    exec(
        c,
        crate::store::PRUNE_LEASES,
        &[&crate::rfc3339(now_ts - time::Duration::days(1))],
    )?;
    Ok(n)
}

pub(crate) async fn write_claim(
    c: &mut Connection,
    d: &Claim,
) -> Result<Vec<Delivery>, LedgerError> {
    let now = crate::rfc3339(d.now);
    rows(
        c,
        claim_sql!(""),
        &[&d.until, &now, &d.limit, &d.holder, &now],
        to_delivery,
    )
}

pub(crate) async fn write_attempted(
    c: &mut Connection,
    event_id: &str,
    outcome: &Attempted,
) -> Result<bool, LedgerError> {
    let at = now();
    let a = outcome.columns(at.clone());
    let n = exec(
        c,
        crate::lifecycle::ATTEMPTED,
        &[&a.status, &a.next, &a.error, &a.delivered_at, &event_id],
    )?;
    if let (1, Attempted::Gone { error, url_sha256 }) = (n, outcome) {
        exec(
            c,
            crate::lifecycle::DISABLE_ENDPOINT,
            &[url_sha256, &at, error, &event_id],
        )?;
    }
    Ok(n == 1)
}

pub(crate) async fn write_release_claim(
    c: &mut Connection,
    event_id: &str,
) -> Result<bool, LedgerError> {
    Ok(exec(c, crate::lifecycle::RELEASE_CLAIM, &[&event_id])? == 1)
}

/// Makes a client's held deliveries due now with a fresh window; how many.
fn release_held(c: &Connection, client: &str, now: &str) -> Result<u64, LedgerError> {
    exec(c, crate::lifecycle::RELEASE_HELD, &[&now, &client])
}

/// The clients a statement `... RETURNING client` gave back.
fn clients(c: &Connection, sql: &str, args: &[&dyn ToSql]) -> Result<Vec<String>, LedgerError> {
    rows(c, sql, args, |r| Ok(r.get(0)?))
}

pub(crate) async fn write_redeliver(
    c: &mut Connection,
    ids: &[String],
) -> Result<u64, LedgerError> {
    let now = now();
    let mut n = 0;
    if ids.is_empty() {
        for client in clients(c, crate::lifecycle::ENABLE_ALL, &[])? {
            n += release_held(c, &client, &now)?;
        }
        return Ok(n + exec(c, crate::lifecycle::REDELIVER_ALL, &[&now])?);
    }
    for id in ids {
        for client in clients(c, crate::lifecycle::ENABLE_OF_EVENT, &[id])? {
            n += release_held(c, &client, &now)?;
        }
        n += exec(c, crate::lifecycle::REDELIVER_ONE, &[&now, id])?;
    }
    Ok(n)
}

pub(crate) async fn write_reenable_changed(
    c: &mut Connection,
    current: &[(String, String)],
) -> Result<Vec<String>, LedgerError> {
    let now = now();
    let mut enabled = Vec::new();
    for (client, url_sha256) in current {
        for gone in clients(c, crate::lifecycle::ENABLE_CHANGED, &[client, url_sha256])? {
            release_held(c, &gone, &now)?;
            enabled.push(gone);
        }
    }
    Ok(enabled)
}

/// SQLite's claim of due status reads, on the followed orders' own index.
pub(crate) const CLAIM_SYNC: &str = claim_sync_sql!("INDEXED BY orders_sync_due ", "");

pub(crate) async fn write_claim_sync(
    c: &mut Connection,
    now: &str,
    until: &str,
    limit: i64,
) -> Result<Vec<SyncDue>, LedgerError> {
    rows(c, CLAIM_SYNC, &[&until, &now, &limit], to_sync_due)
}

/// The read's change (if anything the caller sees changed) with its event, then the
/// schedule. Returns whether the order changed.
pub(crate) async fn write_status(c: &mut Connection, w: &StatusWrite) -> Result<bool, LedgerError> {
    let mut changed = false;
    if let Some((status, vendor_status, tracking)) = &w.update {
        let touched = row(
            c,
            crate::sync::STATUS_CHANGE,
            &[status, vendor_status, tracking, &now(), &w.id],
            to_touched,
        )?;
        if let Some(t) = touched {
            let mut e = NewEvent::new(&t, EventKind::StatusChanged, EventSource::Sync);
            e.status = Some(status.clone());
            e.tracking = tracking.as_deref();
            write_event(c, &e, &w.hooks)?;
            changed = true;
        }
    }
    let Some((next, step)) = w.next.columns() else {
        return Ok(changed);
    };
    exec(c, crate::sync::SCHEDULE, &[&next, &step, &w.id])?;
    Ok(changed)
}

/// The event of a transition just applied (and its outbox row when the client has a
/// webhook), in the transition's transaction.
fn write_event(
    c: &mut Connection,
    e: &NewEvent<'_>,
    hooks: &HashSet<String>,
) -> Result<(), LedgerError> {
    let r = e.row;
    let seq: i64 = row(c, crate::lifecycle::NEXT_SEQ, &[&r.0], |x| Ok(x.get(0)?))?
        .ok_or_else(|| LedgerError::db("no next event number"))?;
    let id = crate::lifecycle::new_event_id();
    let at = now();
    exec(
        c,
        crate::lifecycle::INSERT_EVENT,
        &[
            &id,
            &r.0,
            &r.1,
            &seq,
            &e.kind.as_str(),
            &r.3,
            &e.status,
            &e.source.as_str(),
            &r.5,
            &r.4,
            &e.tracking,
            &at,
        ],
    )?;
    if hooks.contains(&r.1) {
        exec(
            c,
            crate::lifecycle::INSERT_OUTBOX,
            &[&id, &r.0, &r.1, &seq, &e.payload(&id, seq, &at), &at],
        )?;
    }
    Ok(())
}

fn to_touched(r: &rusqlite::Row<'_>) -> Result<Touched, LedgerError> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn to_delivery(r: &rusqlite::Row<'_>) -> Result<Delivery, LedgerError> {
    crate::store::delivery_from(&RowCols::new(r))
}

fn to_record(r: &rusqlite::Row<'_>) -> Result<Record, LedgerError> {
    crate::store::record_from(&RowCols::new(r))
}

fn to_sync_due(r: &rusqlite::Row<'_>) -> Result<SyncDue, LedgerError> {
    crate::store::sync_due_from(&RowCols::new(r))
}

/// A rusqlite row read through the shared row mappings (`crate::store::record_from`...).
/// SQLite stores timestamps as RFC 3339 text, so `time` is `text`.
///
/// The column names are read once per row: rusqlite's by-name `get` asks SQLite for
/// every column's name on each lookup (a record reads 24 columns: ~300 FFI calls and
/// string compares, 2 % of the gateway's CPU in a load profile, issue 21).
struct RowCols<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    names: Vec<&'a str>,
}

impl<'a, 'r> RowCols<'a, 'r> {
    fn new(row: &'a rusqlite::Row<'r>) -> Self {
        RowCols {
            row,
            names: row.as_ref().column_names(),
        }
    }

    fn get<T: rusqlite::types::FromSql>(&self, col: &str) -> Result<T, LedgerError> {
        let i = self
            .names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(col))
            .ok_or_else(|| LedgerError::db(format!("no column {col} in the row")))?;
        Ok(self.row.get(i)?)
    }
}

impl crate::store::Cols for RowCols<'_, '_> {
    fn text(&self, col: &str) -> Result<String, LedgerError> {
        self.get(col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, LedgerError> {
        self.get(col)
    }
    fn int(&self, col: &str) -> Result<i64, LedgerError> {
        self.get(col)
    }
    fn opt_i32(&self, col: &str) -> Result<Option<i32>, LedgerError> {
        self.get(col)
    }
    fn flag(&self, col: &str) -> Result<bool, LedgerError> {
        self.get(col)
    }
    fn time(&self, col: &str) -> Result<String, LedgerError> {
        self.text(col)
    }
}
