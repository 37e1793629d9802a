//! The sandbox config compiled into the binary, so `order-gateway serve` runs anywhere
//! with no file at all ("embedded default"). A config file, when given or present in the
//! working directory, wins.

use std::path::{Path, PathBuf};

/// The shipped `config/gateway.yaml` and the catalogs it names, by path relative to it.
const FILES: &[(&str, &str)] = &[
    ("gateway.yaml", include_str!("../../../config/gateway.yaml")),
    (
        "catalogs/juniper.json",
        include_str!("../../../config/catalogs/juniper.json"),
    ),
    (
        "catalogs/axim.json",
        include_str!("../../../config/catalogs/axim.json"),
    ),
    (
        "catalogs/adobe-vipmp.json",
        include_str!("../../../config/catalogs/adobe-vipmp.json"),
    ),
    (
        "catalogs/impilo.json",
        include_str!("../../../config/catalogs/impilo.json"),
    ),
];

/// The config file `serve` uses: `--config` when given, else `config/gateway.yaml` in the
/// working directory when it exists, else the embedded copy written to `dir` (the config
/// loader reads files, and catalogs resolve beside the config).
pub fn resolve(given: Option<PathBuf>, dir: &Path) -> std::io::Result<(PathBuf, bool)> {
    if let Some(path) = given {
        return Ok((path, false));
    }
    let local = PathBuf::from("config/gateway.yaml");
    if local.exists() {
        return Ok((local, false));
    }
    Ok((write_to(dir)?, true))
}

/// Writes the embedded config to `dir` and returns the config file's path. Its `tests:`
/// name example files of the repository; they are for `test-config`, not for serving.
pub fn write_to(dir: &Path) -> std::io::Result<PathBuf> {
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let text = match text.find("\ntests:\n") {
            Some(i) if *rel == "gateway.yaml" => &text[..=i],
            _ => text,
        };
        std::fs::write(&path, text)?;
    }
    Ok(dir.join("gateway.yaml"))
}

/// The relative paths embedded, for the test that every shipped catalog is among them.
pub fn embedded_paths() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(rel, _)| *rel)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn every_shipped_catalog_is_embedded() {
        let mut shipped: Vec<String> = std::fs::read_dir(repo().join("config/catalogs"))
            .unwrap()
            .map(|e| format!("catalogs/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        shipped.sort();
        let mut embedded: Vec<&str> = embedded_paths().filter(|p| *p != "gateway.yaml").collect();
        embedded.sort();
        assert_eq!(shipped, embedded);
    }

    #[test]
    fn the_embedded_config_is_the_shipped_one_and_serves() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_to(dir.path()).unwrap();
        let shipped = std::fs::read_to_string(repo().join("config/gateway.yaml")).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(shipped.starts_with(&written) && written.contains("connections:"));
        let registry = crate::registry::Registry::builtin();
        let checked = crate::config::load_and_check(
            &path,
            &registry,
            crate::config::CheckMode::Serve,
            &|_: &str| None,
        );
        assert!(checked.is_ok(), "the embedded config does not load");
    }

    #[test]
    fn a_given_config_wins() {
        let dir = tempfile::tempdir().unwrap();
        let given = PathBuf::from("/somewhere/gateway.yaml");
        let (path, embedded) = resolve(Some(given.clone()), dir.path()).unwrap();
        assert_eq!((path, embedded), (given, false));
    }
}
