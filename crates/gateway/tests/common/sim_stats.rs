//! What a vendor simulator saw, from its `/_sim/stats` page.
#![allow(dead_code)]

use serde_json::Value;

/// The `traceparent` of each order call (not token calls) the simulator last saw, by path.
pub async fn order_call_traceparents(
    http: &reqwest::Client,
    sim_port: u16,
) -> (Vec<String>, Value) {
    let stats: Value = http
        .get(format!("http://127.0.0.1:{sim_port}/_sim/stats"))
        .send()
        .await
        .expect("simulator stats")
        .json()
        .await
        .expect("stats JSON");
    let traceparents = stats["lastHeaders"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(path, _)| !path.contains("token"))
        .filter_map(|(_, h)| h["traceparent"].as_str().map(str::to_owned))
        .collect();
    (traceparents, stats)
}
