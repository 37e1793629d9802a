//! Operators settling orders whose outcome is unknown (`resolve-unknown`,
//! `link-vendor-order`). Each resolution is checked before anything is stored and is
//! recorded with who, when and why (`order_resolutions`).
//!
//! - **not placed**: the operator checked the vendor and the order is not there. The
//!   record becomes `failed` and re-armable: the caller's retry with the same `orderRef`
//!   places it.
//! - **placed**: the vendor holds it under an id. The id must be one the connector can
//!   look up (a vendor without a lookup, like Axim, cannot have a linked id verified),
//!   and no other record may hold it. The caller's retry then reads the order at the
//!   vendor and settles the record only if the vendor's order matches the caller's.

use connector::LookupRefusal;
use ledger::{Ledger, Record, RecordState, Resolution, ResolvedAs};
use order_model::{Problem, ProblemCode};

use crate::cli::Exit;
use crate::config::Checked;
use crate::registry::Registry;

/// Why a resolution was refused; each maps to a CLI exit code.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no order has the id {0}")]
    NoSuchOrder(String),
    #[error("order {id} is {state}, not unknown; nothing changed")]
    NotUnknown { id: String, state: RecordState },
    #[error("the order's connection `{0}` is not in this config")]
    UnknownConnection(String),
    #[error("{0}")]
    Lookup(LookupRefusal),
    #[error("vendor order {vendor_order_id} is already held by order {holder}")]
    HeldElsewhere {
        vendor_order_id: String,
        holder: String,
    },
    #[error("the ledger: {0}")]
    Ledger(#[from] ledger::LedgerError),
}

impl Refusal {
    /// Failed: the order or the id does not fit; NoLookup: the vendor cannot verify any
    /// id; TempFail: the ledger failed, try again.
    pub fn exit_code(&self) -> Exit {
        match self {
            Refusal::NoSuchOrder(_)
            | Refusal::NotUnknown { .. }
            | Refusal::HeldElsewhere { .. }
            | Refusal::Lookup(LookupRefusal::InvalidId(_))
            | Refusal::UnknownConnection(_) => Exit::Failed,
            Refusal::Lookup(LookupRefusal::NoLookup) => Exit::NoLookup,
            Refusal::Ledger(_) => Exit::TempFail,
        }
    }
}

/// What the operator found at the vendor.
pub enum Finding {
    NotPlaced,
    Placed { vendor_order_id: String },
}

pub async fn resolve(
    ledger: &Ledger,
    checked: &Checked,
    registry: &Registry,
    order_id: &str,
    finding: Finding,
    operator: &str,
    reason: &str,
) -> Result<(), Refusal> {
    let rec = ledger
        .get_by_id(order_id)
        .await?
        .ok_or_else(|| Refusal::NoSuchOrder(order_id.to_owned()))?;
    if rec.state != RecordState::Unknown {
        return Err(Refusal::NotUnknown {
            id: rec.id,
            state: rec.state,
        });
    }
    let outcome = match finding {
        Finding::NotPlaced => ResolvedAs::NotPlaced {
            response: not_placed_answer(),
        },
        Finding::Placed { vendor_order_id } => {
            check_placed(ledger, checked, registry, &rec, &vendor_order_id).await?;
            ResolvedAs::Placed { vendor_order_id }
        }
    };
    let resolution = Resolution {
        outcome,
        operator: operator.to_owned(),
        reason: reason.to_owned(),
    };
    if !ledger.resolve_by_operator(order_id, &resolution).await? {
        // Settled between the read and the write (a retry, a late answer).
        let now = ledger.get_by_id(order_id).await?;
        return Err(Refusal::NotUnknown {
            id: order_id.to_owned(),
            state: now.map_or(RecordState::Unknown, |r| r.state),
        });
    }
    tracing::info!(
        order_id,
        resolution = resolution.outcome.as_str(),
        "unknown order resolved by an operator"
    );
    Ok(())
}

async fn check_placed(
    ledger: &Ledger,
    checked: &Checked,
    registry: &Registry,
    rec: &Record,
    vendor_order_id: &str,
) -> Result<(), Refusal> {
    let vendor = checked
        .config
        .connections
        .iter()
        .find(|c| c.name == rec.connection)
        .map(|c| c.vendor.as_str())
        .ok_or_else(|| Refusal::UnknownConnection(rec.connection.clone()))?;
    let entry = registry
        .get(vendor)
        .ok_or_else(|| Refusal::UnknownConnection(rec.connection.clone()))?;
    entry
        .connector
        .check_lookup_id(vendor_order_id)
        .map_err(Refusal::Lookup)?;
    if let Some(holder) = ledger
        .holder_of_vendor_order(&rec.connection, vendor_order_id)
        .await?
        && holder != rec.id
    {
        return Err(Refusal::HeldElsewhere {
            vendor_order_id: vendor_order_id.to_owned(),
            holder,
        });
    }
    Ok(())
}

/// What reading a not-placed order shows until the caller's retry places it.
fn not_placed_answer() -> serde_json::Value {
    let p = Problem::new(
        ProblemCode::VendorUnavailable,
        "an operator checked the vendor: this order was not placed there. Retry with the same orderRef to place it",
    )
    .with_retry_after(1);
    serde_json::to_value(&p).unwrap_or(serde_json::Value::Null)
}

/// Whether the order the vendor returned for a linked id is the caller's order: the same
/// lines (sku and quantity) where the vendor returns lines. An operator's typo must not
/// answer a caller with someone else's order.
pub fn vendor_order_matches(
    order: &order_model::CanonicalOrder,
    found: &[order_model::LineResult],
) -> bool {
    if found.is_empty() {
        return true;
    }
    let mut want: Vec<(&str, u32)> = order
        .lines
        .iter()
        .map(|l| (l.sku.as_str(), l.quantity))
        .collect();
    let mut got: Vec<(&str, u32)> = found.iter().map(|l| (l.sku.as_str(), l.quantity)).collect();
    want.sort_unstable();
    got.sort_unstable();
    want == got
}
