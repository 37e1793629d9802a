//! The __NAME__ simulator, written from the vendor's documentation (feature `sim`).

use std::sync::Arc;

use axum::Router;
use connector::sim::SimControl;
use serde_json::Value;

/// NEW VENDOR: the documented endpoints, rules and error answers.
pub fn router(
    _settings: &Value,
    _control: Arc<SimControl>,
) -> Result<Router, connector::sim::SimSettingsError> {
    Ok(Router::new())
}
