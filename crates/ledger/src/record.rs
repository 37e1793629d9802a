use serde_json::Value;

/// Where an order stands. `received -> sending -> accepted | rejected | failed | unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordState {
    /// Recorded, the key claimed; the vendor has not been called (as far as the ledger knows).
    Received,
    /// The caller said it is calling the vendor now.
    Sending,
    /// The vendor took the order. Terminal.
    Accepted,
    /// The vendor (or a vendor rule) refused it. Terminal.
    Rejected,
    /// The vendor did not take it. Terminal; re-armed once per retry when `never_sent`.
    Failed,
    /// It may exist at the vendor: only a reconciler resolves it.
    Unknown,
}

impl RecordState {
    pub const ALL: [RecordState; 6] = [
        RecordState::Received,
        RecordState::Sending,
        RecordState::Accepted,
        RecordState::Rejected,
        RecordState::Failed,
        RecordState::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Received => "received",
            RecordState::Sending => "sending",
            RecordState::Accepted => "accepted",
            RecordState::Rejected => "rejected",
            RecordState::Failed => "failed",
            RecordState::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "received" => RecordState::Received,
            "sending" => RecordState::Sending,
            "accepted" => RecordState::Accepted,
            "rejected" => RecordState::Rejected,
            "failed" => RecordState::Failed,
            "unknown" => RecordState::Unknown,
            _ => return None,
        })
    }

    /// `accepted`, `rejected`, `failed`: never overwritten (a `failed` + `never_sent`
    /// record is only re-armed by `begin`).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RecordState::Accepted | RecordState::Rejected | RecordState::Failed
        )
    }

    /// `received`, `sending`: a process is (or was) working on it.
    pub fn is_in_flight(self) -> bool {
        matches!(self, RecordState::Received | RecordState::Sending)
    }
}

impl std::fmt::Display for RecordState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the caller knows before calling the vendor. No order body, no personal data.
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// The gateway order id (chosen by the caller, unique).
    pub id: String,
    pub client: String,
    pub order_ref: String,
    /// The idempotency key (the orderRef, or the caller's Idempotency-Key); unique per client.
    pub idem_key: String,
    /// Hex SHA-256 (64 hex digits) of the canonical order.
    pub body_hash: String,
    pub route: String,
    pub connection: String,
    pub vendor: String,
    pub trace_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub client: String,
    pub order_ref: String,
    pub idem_key: String,
    pub body_hash: String,
    pub route: String,
    pub connection: String,
    pub vendor: String,
    pub state: RecordState,
    pub vendor_order_id: Option<String>,
    pub vendor_status: Option<String>,
    /// How many times the order was handed to the vendor (`mark_sending`, `begin_sending`).
    pub attempts: i64,
    pub http_status: Option<u16>,
    /// The canonical answer (result or problem) given to the caller, parsed.
    pub response: Option<Value>,
    /// The same answer exactly as stored (JSON text): replay these bytes.
    pub response_text: Option<String>,
    /// A `failed` record that provably never reached the vendor (a retry may place it).
    pub never_sent: bool,
    pub trace_id: Option<String>,
    /// UTC, RFC 3339 with microseconds (`2026-01-02T03:04:05.123456Z`).
    pub created_at: String,
    pub updated_at: String,
    /// Opaque to the ledger: what the gateway needs to reconcile later (e.g. a correlation id).
    pub replay_token: Option<String>,
    /// Opaque to the ledger: JSON the gateway needs to reconcile (e.g. the vendor customer id).
    pub lookup: Option<Value>,
    /// Why the record became `unknown` (set by `set_unknown` and recovery).
    pub note: Option<String>,
    /// The canonical status now: the create's answer's, then the last vendor read's
    /// (status sync). `None` for records without one (problems, older records).
    pub status: Option<String>,
    /// Tracking the vendor last reported (JSON list), if any.
    pub tracking: Option<Value>,
    /// When status sync reads this order next (UTC RFC 3339); `None`: not followed.
    pub sync_next_at: Option<String>,
}

impl Record {
    /// The stored answer, byte for byte, when there is one.
    pub fn answer(&self) -> Option<(u16, &str)> {
        Some((self.http_status?, self.response_text.as_deref()?))
    }
}

/// The outcome of one vendor call.
#[derive(Debug, Clone)]
pub struct Finish {
    /// `accepted`, `rejected`, `failed` or `unknown`.
    pub state: RecordState,
    pub http_status: u16,
    /// The canonical answer; stored as JSON text (`serde_json::to_string`).
    pub response: Value,
    pub vendor_order_id: Option<String>,
    pub vendor_status: Option<String>,
    /// The vendor provably never received the order: a retry may place it. Kept only with
    /// `state: failed`.
    pub never_sent: bool,
    /// Follow the order's status from here (status sync): written with the outcome, in
    /// the same statement. Only kept with `state: accepted`.
    pub sync: Option<crate::SyncStart>,
}

/// What `begin` found.
#[derive(Debug, Clone)]
pub enum Begin {
    /// A new record (`received`, or `sending` from `begin_sending`): call the vendor.
    Started(Record),
    /// Same key, same order, finished (`accepted`/`rejected`/`failed`): replay the stored answer.
    Replay(Record),
    /// Same key, different order (body hash).
    Conflict(Record),
    /// Same key, same order, still being placed (`received`/`sending`).
    InProgress(Record),
    /// Same key, same order, outcome unknown: must be reconciled, never re-sent blindly.
    Unknown(Record),
    /// Same key, same order, `failed` without reaching the vendor: re-armed for this
    /// caller only (of concurrent retries exactly one gets `Retry`); call the vendor.
    Retry(Record),
}

impl Begin {
    pub fn record(&self) -> &Record {
        match self {
            Begin::Started(r)
            | Begin::Replay(r)
            | Begin::Conflict(r)
            | Begin::InProgress(r)
            | Begin::Unknown(r)
            | Begin::Retry(r) => r,
        }
    }

    /// `Started` or `Retry`: this caller owns the record and may call the vendor.
    pub fn may_send(&self) -> bool {
        matches!(self, Begin::Started(_) | Begin::Retry(_))
    }
}
