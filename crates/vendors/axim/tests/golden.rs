#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Golden pairs: every Axim example -> the exact request (UPDATE_GOLDEN=1 rewrites).

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

/// Golden response pairs: `<example>.response.json` is the simulator's answer to that
/// example's golden request (`{"status", "body"}`), `<example>.result.json` the
/// `VendorOrder` that `interpret` makes of it (UPDATE_GOLDEN=1 rewrites the results).
#[test]
fn every_golden_response_interprets_to_its_golden_result() {
    let route = common::route();
    let examples = common::examples();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut responses: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".response.json").map(str::to_owned)
        })
        .collect();
    responses.sort();
    let names: Vec<&str> = examples.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        responses, names,
        "one golden response per example with a golden request"
    );
    for name in responses {
        let order = &examples.iter().find(|(n, _)| *n == name).unwrap().1;
        let recorded: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.response.json"))).unwrap(),
        )
        .unwrap();
        let status = u16::try_from(recorded["status"].as_u64().unwrap()).unwrap();
        let resp =
            connector::VendorResponse::new(status, serde_json::to_vec(&recorded["body"]).unwrap());
        let got = serde_json::to_value(
            route
                .interpret(order, &resp)
                .unwrap_or_else(|f| panic!("{name}: {f:#?}")),
        )
        .unwrap();
        let file = dir.join(format!("{name}.result.json"));
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
