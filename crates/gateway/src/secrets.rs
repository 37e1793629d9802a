//! Secrets come from the environment: config files hold `${NAME}` references only.

/// How the gateway reads the environment; tests pass their own.
pub type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `${NAME}` -> `NAME`.
pub fn parse_ref(s: &str) -> Option<&str> {
    let name = s.strip_prefix("${")?.strip_suffix('}')?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}
