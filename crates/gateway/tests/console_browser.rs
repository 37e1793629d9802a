#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The operator console in a real browser: headless Chromium driven over WebDriver
//! (chromedriver) against a gateway on its sandbox config. Each page is opened, used as
//! an operator would, read back from the DOM, and screenshotted under
//! `target/tmp/console-screenshots/`.
//!
//! Without chromedriver the test says so and passes, unless `OG_REQUIRE_BROWSER=1`
//! (set by `scripts/test`, which installs chromium and chromium-driver when missing),
//! where it fails. `CHROMEDRIVER` and `CHROMIUM` name other binaries than the ones on
//! PATH.

mod common;
mod console_browser {
    pub mod webdriver;
}

use common::{Gateway, examples};
use connector::sim::Fault;
use console_browser::webdriver::{Browser, chromedriver};
use serde_json::{Value, json};

fn example(vendor: &str, prefix: &str) -> Value {
    examples(vendor)
        .into_iter()
        .find(|(n, _)| n.starts_with(prefix))
        .map(|(_, o)| o)
        .expect("an example")
}

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A candidate config that keeps only the Axim route: Juniper's orders would no longer
/// route. Its tests: one that passes, one that fails.
fn candidate(axim_order: &Value) -> String {
    format!(
        "version: 1\nsandbox: true\nclients:\n  - id: dev\n    keySha256: 7e9f8fd111802be56c379d597842e29b2cebd35ff2133d431a49fa556a18704e\n\
connections:\n  - name: axim-sandbox\n    vendor: axim\n    outbound:\n      baseUrl: http://127.0.0.1:18102\n      auth:\n        kind: staticHeader\n        header: accessToken\n        token: axim-sandbox-token\n\
routes:\n  - name: axim\n    when:\n      skus: [\"AX-*\"]\n    connection: axim-sandbox\n    catalogFile: catalogs/axim.json\n    defaults:\n      orderStatus: pending\n\
fallback: none\ntests:\n  - name: axim stays\n    order: {axim_order}\n    expectRoute: axim\n  - name: axim would not route\n    order: {axim_order}\n    expectRoute: none\n"
    )
}

/// One browser session walking every page in order; each step is a function below and
/// needs the state the last one left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    let driver = match chromedriver() {
        Ok(d) => d,
        Err(why) if std::env::var("OG_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("OG_REQUIRE_BROWSER=1 but no browser: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED the_console_in_a_real_browser: {why}");
            return;
        }
    };
    let g = Gateway::start().await;
    let browser = Browser::start(&driver).await;
    let shots = screenshots();

    // Orders for the overview: one Juniper order placed, one Impilo order placed.
    for (vendor, prefix) in [("juniper", "page-sample"), ("impilo", "site-restock")] {
        let (status, _, body) = g.post("/v1/orders", &example(vendor, prefix)).await;
        assert_eq!(status, 201, "{body}");
    }

    overview(&g, &browser, &shots).await;
    playground_order(&g, &browser, &shots).await;
    playground_candidate(&g, &browser, &shots).await;
    unknown_orders(&g, &browser, &shots).await;
}

/// The overview: config version, connections, the orders placed at the start.
async fn overview(g: &Gateway, browser: &Browser, shots: &std::path::Path) {
    // Overview.
    browser.goto(&g.admin("/")).await;
    assert!(browser.title().await.starts_with("Overview"));
    let config = g.admin_json("/config").await;
    assert_eq!(
        browser.text("#config-version").await,
        config["version"].as_str().unwrap()
    );
    assert!(
        browser
            .text("#last-reload")
            .await
            .contains("no refused reload")
    );
    let juniper = browser
        .text("#connections tr[data-connection='juniper-sandbox']")
        .await;
    assert!(juniper.contains("closed"), "{juniper}");
    assert!(juniper.contains("fresh, usable for"), "{juniper}");
    assert!(juniper.contains("201"), "{juniper}");
    let orders = browser.text("#orders").await;
    assert!(
        orders.contains("juniper-sandbox") && orders.contains("impilo-sandbox"),
        "{orders}"
    );
    browser.screenshot(&shots.join("overview.png")).await;
}

/// The playground: an example order routed and translated; a bad one marked in place.
async fn playground_order(g: &Gateway, browser: &Browser, shots: &std::path::Path) {
    // Playground: an example order, routed and translated.
    browser.goto(&g.admin("/playground")).await;
    browser
        .click("#example option[value='juniper/page-sample-one-time.json']")
        .await;
    browser.submit("#playground button[type=submit]").await;
    assert_eq!(browser.text("#route").await, "juniper");
    assert_eq!(browser.text("#connection").await, "juniper-sandbox");
    let line = browser.text("#request-line").await;
    assert!(line.starts_with("POST http://127.0.0.1:"), "{line}");
    let headers = browser.text("#request-headers").await;
    assert!(!headers.contains("juniper-sandbox-secret"), "{headers}");
    // A pasted order with a bad quantity: refused, the error at its pointer.
    let mut bad = example("juniper", "page-sample");
    bad["lines"][0]["quantity"] = json!(0);
    browser.fill("#order", &bad.to_string()).await;
    browser.submit("#playground button[type=submit]").await;
    assert_eq!(browser.text("#problem-code").await, "invalid_order");
    let errors = browser.text("#errors").await;
    assert!(errors.contains("/lines/0/quantity"), "{errors}");
    // ... and marked in place in the order.
    let marked = browser
        .text("#order-tree mark.error[data-pointer='/lines/0/quantity']")
        .await;
    assert!(
        marked.starts_with("quantity: 0") && marked.contains("error:"),
        "{marked}"
    );
    browser
        .screenshot(&shots.join("playground-order.png"))
        .await;
}

/// A candidate config in the playground: checks, tests, routes old vs new; nothing sent.
async fn playground_candidate(g: &Gateway, browser: &Browser, shots: &std::path::Path) {
    // A candidate config: its checks, its tests, routes old vs new. Sent to no vendor.
    let calls_before = g.sim_for("juniper").control.count("requests");
    let axim = example("axim", "page-sample");
    // Two pasted orders (a JSON list): their routes are compared too.
    let pasted = json!([example("juniper", "page-sample"), axim.clone()]);
    browser.fill("#order", &pasted.to_string()).await;
    browser.fill("#candidate", &candidate(&axim)).await;
    browser.submit("#playground button[type=submit]").await;
    assert!(browser.text("#candidate-verdict").await.contains("valid"));
    let tests = browser.text("#candidate-tests").await;
    assert!(tests.contains("pass axim stays"), "{tests}");
    assert!(tests.contains("FAIL axim would not route"), "{tests}");
    let diff = browser.text("#route-diff").await;
    assert!(
        diff.contains(
            "juniper/page-sample-one-time.json juniper → juniper-sandbox refused: no_route changed"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("axim/page-sample.json axim → axim-sandbox axim → axim-sandbox same"),
        "{diff}"
    );
    assert!(
        diff.contains("pasted order 1 juniper → juniper-sandbox refused: no_route changed")
            && diff.contains("pasted order 2 axim → axim-sandbox axim → axim-sandbox same"),
        "{diff}"
    );
    browser
        .screenshot(&shots.join("playground-candidate.png"))
        .await;
    // An invalid candidate: check-config's errors with line and column.
    browser
        .fill("#candidate", "version: 2\nroutes: nope\n")
        .await;
    browser.submit("#playground button[type=submit]").await;
    assert!(browser.text("#candidate-verdict").await.contains("invalid"));
    let issues = browser.text("#candidate-issues").await;
    assert!(issues.contains("candidate.yaml:1:"), "{issues}");
    assert_eq!(
        g.sim_for("juniper").control.count("requests"),
        calls_before,
        "the playground sent nothing"
    );
}

/// An unknown order resolved from the console; the caller's retry then places it.
async fn unknown_orders(g: &Gateway, browser: &Browser, shots: &std::path::Path) {
    // Unknown orders: one made by cutting Juniper's answer after it created the order.
    g.sim_for("juniper").control.push_fault(Fault::AbortAfter {
        path: Some("/v1/orders".into()),
    });
    let mut order = example("juniper", "subscription");
    order["orderRef"] = json!("console-browser-unknown");
    let (status, _, body) = g.post("/v1/orders", &order).await;
    assert!(status == 502 || status == 504, "{body}");
    browser.goto(&g.admin("/unknown")).await;
    let row = browser.text("#unknown tbody tr").await;
    assert!(row.contains("juniper-sandbox"), "{row}");
    browser.screenshot(&shots.join("unknown.png")).await;
    // A wrong operator key changes nothing; the operator key resolves it as not placed.
    resolve_first(browser, "dev-key").await;
    assert!(browser.text("#outcome").await.contains("Not resolved"));
    assert_eq!(g.admin_json("/orders/unknown").await["total"], 1);
    resolve_first(browser, "ops-key").await;
    let outcome = browser.text("#outcome").await;
    assert!(
        outcome.contains("Resolved") && outcome.contains("sandbox-operator"),
        "{outcome}"
    );
    assert!(browser.text("#unknown-none").await.contains("None"));
    browser
        .screenshot(&shots.join("unknown-resolved.png"))
        .await;
    assert_eq!(g.admin_json("/orders/unknown").await["total"], 0);
    // The caller's retry now places it.
    let (status, _, body) = g.post("/v1/orders", &order).await;
    assert_eq!(status, 201, "{body}");
}

/// Fills the first unknown order's form (not placed, a reason, `key`) and submits it.
async fn resolve_first(browser: &Browser, key: &str) {
    let form = "#unknown tbody tr form";
    browser
        .click(&format!("{form} input[value=not-placed]"))
        .await;
    browser
        .fill(
            &format!("{form} input[name=reason]"),
            "checked the vendor portal",
        )
        .await;
    browser
        .fill(&format!("{form} input[name=operator_key]"), key)
        .await;
    browser.submit(&format!("{form} button")).await;
}
