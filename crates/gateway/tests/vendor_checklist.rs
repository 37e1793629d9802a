//! Every registered vendor has what the README's "Adding a vendor" checklist asks for:
//! at least three example orders, a simulator, a golden request, response and result per
//! example, a sandbox catalog and route fixture, and a README with the request mapping
//! table. A fifth vendor that skips one fails here, not in review.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use gateway::registry::Registry;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json_stems(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stems: Vec<String> = entries
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "json").then(|| p.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    stems.sort();
    stems
}

/// A markdown section (`## {heading}...`) of `readme` that holds a table.
fn has_table_under(readme: &str, heading: &str) -> bool {
    let Some(start) = readme.find(&format!("\n## {heading}")) else {
        return false;
    };
    let section = &readme[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    section[..end]
        .lines()
        .any(|l| l.trim_start().starts_with('|'))
}

/// What vendor `kind` lacks under `repo` (empty when nothing).
fn missing(repo: &Path, kind: &str) -> Vec<String> {
    let krate = repo.join("crates/vendors").join(kind);
    let mut out = Vec::new();
    let examples = json_stems(&repo.join("examples/orders").join(kind));
    if examples.len() < 3 {
        out.push(format!(
            "examples/orders/{kind}/: {} example orders, at least 3 wanted",
            examples.len()
        ));
    }
    for file in [
        "src/sim.rs",
        "src/coverage.rs",
        "tests/fixtures/route.json",
        "tests/golden.rs",
        "tests/coverage.rs",
        "tests/sim_http.rs",
    ] {
        if !krate.join(file).is_file() {
            out.push(format!("crates/vendors/{kind}/{file}"));
        }
    }
    if !repo.join(format!("config/catalogs/{kind}.json")).is_file() {
        out.push(format!("config/catalogs/{kind}.json"));
    }
    for stem in &examples {
        for part in ["request", "response", "result"] {
            let golden = format!("tests/golden/{stem}.{part}.json");
            if !krate.join(&golden).is_file() {
                out.push(format!("crates/vendors/{kind}/{golden}"));
            }
        }
    }
    let readme = std::fs::read_to_string(krate.join("README.md")).unwrap_or_default();
    if !has_table_under(&readme, "Request mapping") {
        out.push(format!(
            "crates/vendors/{kind}/README.md: a \"## Request mapping\" section with its table"
        ));
    }
    // The ignored fields are listed as `path`s (tests/coverage.rs reads them).
    for heading in ["Ignored canonical fields", "Simulator"] {
        if !readme.contains(&format!("\n## {heading}")) {
            out.push(format!(
                "crates/vendors/{kind}/README.md: a \"## {heading}\" section"
            ));
        }
    }
    out
}

#[test]
fn every_registered_vendor_has_examples_a_simulator_goldens_and_a_mapping_table() {
    let kinds = Registry::builtin().kinds();
    assert!(kinds.len() >= 4, "{kinds:?}");
    let gaps: Vec<String> = kinds
        .iter()
        .flat_map(|kind| missing(&repo(), kind))
        .collect();
    assert!(gaps.is_empty(), "missing: {gaps:#?}");
}

/// The check itself: a vendor with nothing but a README without the table lacks it all.
#[test]
fn a_vendor_without_its_files_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("crates/vendors/newvendor");
    std::fs::create_dir_all(krate.join("tests/golden")).unwrap();
    std::fs::create_dir_all(dir.path().join("examples/orders/newvendor")).unwrap();
    std::fs::write(
        dir.path().join("examples/orders/newvendor/first.json"),
        "{}",
    )
    .unwrap();
    std::fs::write(
        krate.join("README.md"),
        "# newvendor\n\n## Request mapping\n\nprose only\n\n## Ignored canonical fields\n\nNot sent: `customer.email`.\n",
    )
    .unwrap();
    let gaps = missing(dir.path(), "newvendor");
    for want in [
        "examples/orders/newvendor/: 1 example orders, at least 3 wanted",
        "crates/vendors/newvendor/src/sim.rs",
        "config/catalogs/newvendor.json",
        "crates/vendors/newvendor/tests/golden/first.request.json",
        "crates/vendors/newvendor/tests/golden/first.result.json",
        "crates/vendors/newvendor/README.md: a \"## Request mapping\" section with its table",
        "crates/vendors/newvendor/README.md: a \"## Simulator\" section",
    ] {
        assert!(gaps.iter().any(|g| g == want), "{want} not in {gaps:#?}");
    }
    assert!(
        !gaps.iter().any(|g| g.contains("Ignored canonical fields")),
        "{gaps:#?}"
    );
}
