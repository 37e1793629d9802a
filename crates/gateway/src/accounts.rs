//! Remembered vendor accounts (opt-in per route: `rememberCreatedAccounts: true`).
//!
//! Impilo creates a patient for an order with an inline new patient and returns its id
//! (`vendorRefs`). Without help, every later inline order for the same person creates
//! another patient. On an opted-in route the gateway remembers the account under the
//! client, the connection, the order's `customer.ref` and a fingerprint of the details
//! that created it (the order's `customer` and `shipTo` objects), and a later order with
//! the same customer and the same details reuses it (the connector names the account and
//! drops what only creates one). Different details (the person moved) create a new
//! account, as the vendor would, and that one is remembered beside the first.
//!
//! Decisions: an order that names an account itself (`customer.accounts`) is never
//! changed; only the SHA-256 fingerprint is stored, not the details; the dry run
//! (`/v1/orders/preview`, `translate`) reads no ledger and shows the inline form.

use ledger::{AccountKey, KnownAccount};
use order_model::{CanonicalOrder, FieldError, VendorRef};
use serde_json::{Value, json};

use crate::pipeline::Planned;
use crate::routing::CompiledRoute;
use crate::state::AppState;

/// The key to remember or find an account under; `None` when the route does not opt in,
/// the order has no `customer.ref`, or it names an account for this vendor itself.
pub fn key_for(client: &str, route: &CompiledRoute, order: &CanonicalOrder) -> Option<AccountKey> {
    if !route.remember_created_accounts {
        return None;
    }
    let customer_ref = order.customer.customer_ref.trim();
    if customer_ref.is_empty()
        || order
            .customer
            .account_for(&route.connection, route.vendor)
            .is_some()
    {
        return None;
    }
    let details = json!({
        "client": client,
        "connection": route.connection,
        "customer": order.customer,
        "shipTo": order.ship_to,
    });
    Some(AccountKey {
        client: client.to_owned(),
        connection: route.connection.clone(),
        customer_ref: customer_ref.to_owned(),
        fingerprint: ledger::sha256_hex(details.to_string().as_bytes()),
    })
}

/// `planned` reusing the remembered account for `key`, if there is one. A ledger that
/// cannot be read leaves the order as it is (inline): at worst the vendor creates
/// another account, which is what happens without the opt-in.
pub async fn reuse<'r>(
    state: &AppState,
    key: &AccountKey,
    planned: Planned<'r>,
    ctx: &connector::TranslateContext<'_>,
) -> Result<Planned<'r>, Vec<FieldError>> {
    let known = match state.ledger.known_account(key).await {
        Ok(Some(k)) => k,
        Ok(None) => return Ok(planned),
        Err(e) => {
            tracing::warn!(error = %e, "remembered accounts: lookup failed; the order creates its own");
            return Ok(planned);
        }
    };
    let Ok(kind) = serde_json::from_value(Value::String(known.kind.clone())) else {
        return Ok(planned);
    };
    let account = VendorRef {
        kind,
        id: known.vendor_id,
    };
    let Some(order) = planned
        .route
        .prepared
        .reuse_created_account(&planned.order, &account)
    else {
        return Ok(planned);
    };
    let request = planned.route.prepared.translate(&order, ctx)?;
    metrics::counter!(crate::metric_names::VENDOR_ACCOUNTS_REUSED_TOTAL, "connection" => planned.route.connection.clone())
        .increment(1);
    Ok(Planned {
        order,
        request,
        ..planned
    })
}

/// Remembers the accounts an accepted order's answer says the vendor created.
pub async fn remember(state: &AppState, key: &AccountKey, order_id: &str, response: &Value) {
    let refs = response
        .get("vendorRefs")
        .cloned()
        .and_then(|v| serde_json::from_value::<Vec<VendorRef>>(v).ok())
        .unwrap_or_default();
    for r in refs {
        let kind = serde_json::to_value(r.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let account = KnownAccount {
            kind,
            vendor_id: r.id,
            order_id: order_id.to_owned(),
        };
        if let Err(e) = state.ledger.remember_account(key, &account).await {
            tracing::warn!(error = %e, order_id, "remembered accounts: could not record the new account");
        }
    }
}
