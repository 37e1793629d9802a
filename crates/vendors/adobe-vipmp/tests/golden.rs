#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Golden pairs: every Adobe example -> the exact request (UPDATE_GOLDEN=1 rewrites).

mod common;

use serde_json::{Value, json};

#[test]
fn every_example_translates_to_its_golden_request() {
    let route = common::route();
    let examples = common::examples();
    assert!(examples.len() >= 3);
    for (name, order) in examples {
        let req = common::with_ctx(&order, |ctx| route.translate(&order, ctx))
            .unwrap_or_else(|e| panic!("{name}: {e:#?}"));
        let headers: serde_json::Map<String, Value> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
            .collect();
        let got = json!({"method": req.method.as_str(), "path": req.path, "headers": headers, "body": req.body_json()});
        let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/golden/{name}.request.json"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&file, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        }
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(&file)
                .unwrap_or_else(|_| panic!("{} missing", file.display())),
        )
        .unwrap();
        pretty_assertions::assert_eq!(got, want, "{name}");
    }
}
