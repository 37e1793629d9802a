//! Config files hold secrets as `${NAME}` references to the environment (a literal is
//! allowed in sandbox configs only; the gateway's config check enforces that). The
//! gateway, the outbound stack and the ledger all read such fields, so the syntax is
//! defined once, here, at the bottom of the crate graph.

use secrecy::SecretString;

/// `${NAME}` -> `NAME`; `None` for anything else (a literal). A name is ASCII letters,
/// digits and `_`, as a shell would accept it.
pub fn parse(value: &str) -> Option<&str> {
    let name = value.strip_prefix("${")?.strip_suffix('}')?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("environment variable {0} is not set")]
pub struct MissingSecret(pub String);

/// The secret a config value stands for: the referenced variable through `env`, or the
/// literal itself.
pub fn resolve(
    value: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SecretString, MissingSecret> {
    match parse(value) {
        Some(name) => env(name)
            .map(SecretString::from)
            .ok_or_else(|| MissingSecret(name.to_owned())),
        None => Ok(SecretString::from(value.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn parses_references_only() {
        assert_eq!(parse("${LEDGER_URL}"), Some("LEDGER_URL"));
        assert_eq!(parse("${a1_B}"), Some("a1_B"));
        for literal in ["", "${}", "${A-B}", "$A", "{A}", "x${A}", "${A}x", "${A B}"] {
            assert_eq!(parse(literal), None, "{literal}");
        }
    }

    #[test]
    fn resolves_through_the_env_or_keeps_the_literal() {
        let env = |n: &str| (n == "SET").then(|| "value".to_owned());
        assert_eq!(resolve("${SET}", &env).unwrap().expose_secret(), "value");
        assert_eq!(
            resolve("${UNSET}", &env).unwrap_err(),
            MissingSecret("UNSET".into())
        );
        assert_eq!(resolve("literal", &env).unwrap().expose_secret(), "literal");
    }
}
