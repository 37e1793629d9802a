//! The operator console: server-rendered pages on the admin listener (`/`), for platform
//! teams and on-call. Templates are compiled in (maud), with one embedded stylesheet and
//! no script, so it works offline and needs nothing installed.
//!
//! Read-only pages follow the admin listener's policy (it is reachable only by those who
//! may reach the admin port). Actions need an operator key (`operators:` in config) and
//! carry a CSRF token (see [`csrf`]). Nothing on these pages sends to a vendor.

mod candidate;
mod csrf;
mod layout;
mod metrics_text;
mod order_tree;
mod overview;
mod playground;
mod unknown;
mod webhooks;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::state::AppState;

pub const STYLESHEET: &str = include_str!("style.css");

/// What the console's handlers share: the gateway's state and the counter samples the
/// overview's "recent minutes" are computed from.
pub struct Console {
    pub app: Arc<AppState>,
    samples: Mutex<VecDeque<overview::Sample>>,
}

pub fn router(app: Arc<AppState>) -> Router {
    let console = Arc::new(Console {
        samples: Mutex::new(VecDeque::from([overview::Sample::take(&app)])),
        app,
    });
    Router::new()
        .route("/", get(overview::page))
        .route("/playground", get(playground::page).post(playground::run))
        .route("/unknown", get(unknown::page))
        .route("/unknown/{id}/resolve", post(unknown::resolve))
        // The admin JSON API has /webhooks/failed and /webhooks/redeliver; the page's
        // form posts to its own path.
        .route("/webhooks", get(webhooks::page))
        .route("/webhooks/redeliver-form", post(webhooks::redeliver))
        .route("/console/style.css", get(stylesheet))
        .with_state(console)
}

async fn stylesheet() -> Response {
    let mut resp = STYLESHEET.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    resp
}
