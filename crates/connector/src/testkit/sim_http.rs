//! A vendor simulator over real HTTP, for each vendor's `tests/sim_http.rs` (features
//! `testkit` and `sim`): every vendor's tests start their simulator on a free loopback
//! port, send it requests and read the answers as the outbound stack would hand them to
//! `interpret`. Written once here so the four suites differ only in what they assert.

use std::fmt::Debug;
use std::sync::Arc;

use axum::Router;
use serde_json::Value;

use crate::sim::{RunningSim, SimControl, serve};
use crate::{VendorRequest, VendorResponse};

/// Starts the simulator `router` builds from `settings` on `127.0.0.1:0` (the port the
/// OS picked is in the returned [`RunningSim`]).
pub async fn start<E: Debug>(
    router: fn(&Value, Arc<SimControl>) -> Result<Router, E>,
    settings: &Value,
) -> RunningSim {
    let control = SimControl::new();
    let app = router(settings, control.clone()).unwrap();
    serve(app, "127.0.0.1:0".parse().unwrap(), control)
        .await
        .unwrap()
}

/// A request for `req` (method, path, headers, body) to the simulator `sim`; the caller
/// adds the credentials under test.
pub fn request(
    http: &reqwest::Client,
    sim: &RunningSim,
    req: &VendorRequest,
) -> reqwest::RequestBuilder {
    let mut b = http.request(
        req.method.clone(),
        format!("{}{}", sim.base_url(), req.path),
    );
    for (k, v) in &req.headers {
        b = b.header(k, v);
    }
    if let Some(body) = &req.body {
        b = b.body(body.clone());
    }
    b
}

/// Sends `req` and reads the answer whole: status, headers and body, as `interpret` sees it.
pub async fn response(req: reqwest::RequestBuilder) -> VendorResponse {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    VendorResponse {
        status,
        headers,
        body: r.bytes().await.unwrap(),
    }
}

/// An OAuth2 client-credentials grant at `url` (`form` is the grant's fields); asserts
/// 200 and returns the token answer for the vendor's own assertions.
pub async fn client_credentials(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Value {
    let mut fields = vec![("grant_type", "client_credentials")];
    fields.extend_from_slice(form);
    let r = http.post(url).form(&fields).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "token grant at {url}");
    r.json().await.unwrap()
}

/// Asserts the answer's status, showing its body when it is another (`what` names the
/// case: an example, a field).
pub fn assert_status(resp: &VendorResponse, want: u16, what: &str) {
    assert_eq!(
        resp.status,
        want,
        "{what}: {}",
        String::from_utf8_lossy(&resp.body)
    );
}
