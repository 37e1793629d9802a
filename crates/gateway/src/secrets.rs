//! Secrets come from the environment: config files hold `${NAME}` references only.

/// How the gateway reads the environment; tests pass their own.
pub type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `${NAME}` -> `NAME` (one parser for every crate that reads config secrets).
pub use secret_ref::parse as parse_ref;
