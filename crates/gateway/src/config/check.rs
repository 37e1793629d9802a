//! What a config check produces: issues with `file:line:column`, and the collector the
//! passes report into. The passes themselves are composed in `compiler.rs`.

use std::fmt;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::model::GatewayConfig;
use super::yaml::{Pos, Positions};
use crate::routing::CompiledRoute;
use crate::secrets::EnvLookup;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    pub file: PathBuf,
    pub pos: Option<Pos>,
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.pos {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, ": {sev}: {} (at {at})", self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckMode {
    /// `check-config`: unset secrets are warnings (the env of the target is elsewhere).
    Offline,
    /// `serve` and reload: unset secrets are errors.
    Serve,
}

/// A config that passed every check, compiled.
pub struct Checked {
    pub config: GatewayConfig,
    pub path: PathBuf,
    /// SHA-256 over the config file and every catalog file it reads, hex (first 16 chars
    /// are shown as the config version).
    pub hash: String,
    pub routes: Vec<CompiledRoute>,
    pub fallback: Option<usize>,
    /// Catalog files read, so hot reload can watch them too.
    pub files: Vec<PathBuf>,
    pub warnings: Vec<Issue>,
}

impl Checked {
    pub fn version(&self) -> &str {
        &self.hash[..16.min(self.hash.len())]
    }
}

/// Collects issues from every pass; positions come from the YAML, looked up by pointer.
pub(super) struct Ctx<'a> {
    pub file: PathBuf,
    pub positions: Positions,
    pub issues: Vec<Issue>,
    pub mode: CheckMode,
    pub env: &'a EnvLookup,
}

impl Ctx<'_> {
    fn push(&mut self, severity: Severity, pointer: impl Into<String>, message: impl Into<String>) {
        let pointer = pointer.into();
        let pos = self.positions.find(&pointer);
        self.issues.push(Issue {
            severity,
            file: self.file.clone(),
            pos,
            pointer,
            message: message.into(),
        });
    }
    pub fn error(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, pointer, message);
    }
    pub fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, pointer, message);
    }
    /// What depends on the target's environment: a warning offline, an error when serving.
    pub fn error_when_serving(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        match self.mode {
            CheckMode::Offline => self.warn(pointer, message),
            CheckMode::Serve => self.error(pointer, message),
        }
    }

    /// What only offline tooling needs: an error for `check-config`, a warning when serving.
    pub fn error_offline(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        match self.mode {
            CheckMode::Offline => self.error(pointer, message),
            CheckMode::Serve => self.warn(pointer, message),
        }
    }

    /// Deserializes the value at `pointer`; a failure is reported at the field serde
    /// stopped on (its own line), not at the section holding it.
    pub fn parse<T: DeserializeOwned>(&mut self, value: &Value, pointer: &str) -> Option<T> {
        self.try_parse(value, pointer).ok()
    }

    /// [`Ctx::parse`], giving back where it failed.
    pub fn try_parse<T: DeserializeOwned>(
        &mut self,
        value: &Value,
        pointer: &str,
    ) -> Result<T, String> {
        serde_path_to_error::deserialize::<_, T>(value.clone()).map_err(|e| {
            let at = format!("{pointer}{}", error_pointer(&e));
            self.error(at.clone(), e.into_inner().to_string());
            at
        })
    }

    /// A `${NAME}` reference must be set where the gateway runs.
    pub fn check_env(&mut self, at: &str, name: &str) {
        if (self.env)(name).is_none() {
            self.error_when_serving(
                at,
                format!("environment variable {name} is referenced but not set"),
            );
        }
    }

    /// Each secret field, `(pointer, Some(env name))` for references and `None` for
    /// literals: literals are fine in a sandbox config, an error elsewhere.
    pub fn check_secrets(&mut self, secrets: Vec<(String, Option<String>)>, sandbox: bool) {
        for (at, secret) in secrets {
            match secret {
                Some(name) => self.check_env(&at, &name),
                None if !sandbox => self.error(
                    at,
                    "a literal secret is only allowed in a sandbox config (sandbox: true); use a ${ENV} reference",
                ),
                None => {}
            }
        }
    }

    /// Every issue, errors first, each group in file order; `Err` when any is an error.
    pub fn finish(mut self) -> Result<Vec<Issue>, Vec<Issue>> {
        let failed = self.issues.iter().any(|i| i.severity == Severity::Error);
        if failed {
            self.issues
                .sort_by_key(|i| (i.severity, i.pos.map(|p| (p.line, p.column))));
            Err(self.issues)
        } else {
            Ok(self.issues)
        }
    }
}

/// serde's path to the failing node as a JSON Pointer suffix; an unknown field is
/// pointed at the field itself.
fn error_pointer(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in e.path().iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&order_model::escape_pointer(key));
            }
            Segment::Unknown => {}
        }
    }
    let msg = e.inner().to_string();
    if let Some(field) = msg
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        let own = format!("/{}", order_model::escape_pointer(field));
        if !out.ends_with(&own) {
            out.push_str(&own);
        }
    }
    out
}
