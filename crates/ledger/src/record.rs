use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    Received,
    Sending,
    Accepted,
    Rejected,
    Failed,
    Unknown,
}

impl RecordState {
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

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RecordState::Accepted | RecordState::Rejected | RecordState::Failed
        )
    }
}

#[derive(Debug, Clone)]
pub struct NewRecord {
    pub id: String,
    pub client: String,
    pub order_ref: String,
    /// The idempotency key (the orderRef, or the caller's Idempotency-Key).
    pub idem_key: String,
    /// Hex SHA-256 of the canonical order.
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
    pub attempts: i64,
    pub http_status: Option<u16>,
    /// The canonical answer (result or problem) given to the caller.
    pub response: Option<Value>,
    pub never_sent: bool,
    pub trace_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone)]
pub struct Finish {
    pub state: RecordState,
    pub http_status: u16,
    pub response: Value,
    pub vendor_order_id: Option<String>,
    pub vendor_status: Option<String>,
    /// The vendor provably never received the order: a retry may place it.
    pub never_sent: bool,
}

/// What `begin` found.
#[derive(Debug, Clone)]
pub enum Begin {
    /// A new record, written as `sending` before the call: go ahead and call the vendor.
    Started(Record),
    /// Same key, same order, finished: replay the stored answer.
    Replay(Record),
    /// Same key, different order.
    Conflict(Record),
    /// Same key, same order, still being placed.
    InProgress(Record),
    /// Same key, same order, outcome unknown: must be reconciled, not re-sent.
    Unknown(Record),
    /// Same key, same order, failed without reaching the vendor: re-armed (`sending`) for this caller.
    Retry(Record),
}
