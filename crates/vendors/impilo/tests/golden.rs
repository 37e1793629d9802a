//! Every example translates to the checked-in golden request. `UPDATE_GOLDEN=1` rewrites them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use order_model::SchemaValidator;
use serde_json::{Value, json};

#[test]
fn there_are_enough_examples() {
    assert!(common::examples().len() >= 3);
}

#[test]
fn examples_validate_against_the_canonical_and_option_schemas() {
    let c = vendor_impilo::connector();
    let order_opts = SchemaValidator::new(&c.order_options_schema()).unwrap();
    let line_opts = SchemaValidator::new(&c.line_options_schema()).unwrap();
    for (name, v) in common::examples() {
        let o = common::order(&v);
        if let Some(opts) = v.pointer("/vendorOptions/impilo") {
            assert!(
                order_opts
                    .violations(opts, "/vendorOptions/impilo")
                    .is_empty(),
                "{name}"
            );
        }
        for (i, l) in o.lines.iter().enumerate() {
            if let Some(opts) = l.vendor_options_for("impilo") {
                let v = Value::Object(opts.clone());
                let errs = line_opts.violations(&v, &format!("/lines/{i}/vendorOptions/impilo"));
                assert!(errs.is_empty(), "{name}: {errs:?}");
            }
        }
        for sku in o.lines.iter().map(|l| &l.sku) {
            assert!(sku.starts_with("IMP-"), "{name}: {sku}");
        }
    }
}

#[test]
fn golden_requests() {
    let route = common::route();
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for (name, v) in common::examples() {
        let o = common::order(&v);
        let req = common::with_ctx(&o, |ctx| route.translate(&o, ctx))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let headers: serde_json::Map<String, Value> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
            .collect();
        let got = json!({"method": req.method.as_str(), "path": req.path, "headers": headers, "body": req.body_json().unwrap()});
        let path = dir.join(format!("{name}.request.json"));
        if update {
            std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("missing {}", path.display())),
        )
        .unwrap();
        pretty_assertions::assert_eq!(got, want, "{name}");
    }
}

/// Golden response pairs: `<example>.response.json` is the simulator's answer to that
/// example's golden request (`{"status", "body"}`), `<example>.result.json` the
/// `VendorOrder` that `interpret` makes of it. `UPDATE_GOLDEN=1` rewrites the results.
#[test]
fn every_golden_response_interprets_to_its_golden_result() {
    let route = common::route();
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let examples = common::examples();
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
        let o = common::order(&examples.iter().find(|(n, _)| *n == name).unwrap().1);
        let recorded: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.response.json"))).unwrap(),
        )
        .unwrap();
        let status = u16::try_from(recorded["status"].as_u64().unwrap()).unwrap();
        let resp =
            connector::VendorResponse::new(status, serde_json::to_vec(&recorded["body"]).unwrap());
        let got = serde_json::to_value(
            route
                .interpret(&o, &resp)
                .unwrap_or_else(|f| panic!("{name}: {f:?}")),
        )
        .unwrap();
        let path = dir.join(format!("{name}.result.json"));
        if update {
            std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("missing {}", path.display())),
        )
        .unwrap();
        pretty_assertions::assert_eq!(got, want, "{name}");
    }
}
