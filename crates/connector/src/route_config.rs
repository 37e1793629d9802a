//! Reading one route's vendor config ([`crate::RouteConfig`]) in every connector's
//! `prepare`: one rule for the `/defaults` and `/settings` objects and for serde's shape
//! errors, so a mistake reads alike in whichever vendor's route it stands.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ConfigIssue;
use order_model::escape_pointer;

/// Where a serde error reading the value at `at` points: at the unknown field serde
/// names, else at `at` itself.
pub fn error_pointer(at: &str, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    msg.strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
        .map(|f| format!("{at}/{}", escape_pointer(f)))
        .unwrap_or_else(|| at.to_owned())
}

/// The object at `at` (`/defaults`, `/settings`) as `T`: absent (`Null`) is
/// `T::default()`; a value of the wrong shape adds an issue and reads as `T::default()`,
/// so the route's other checks still run and report too.
pub fn parse_object<T: DeserializeOwned + Default>(
    v: &Value,
    at: &str,
    issues: &mut Vec<ConfigIssue>,
) -> T {
    if v.is_null() {
        return T::default();
    }
    serde_json::from_value(v.clone()).unwrap_or_else(|e| {
        issues.push(ConfigIssue::new(error_pointer(at, &e), e.to_string()));
        T::default()
    })
}

/// The prepared `value` when the checks found nothing, else every issue they found.
pub fn finish<T>(issues: Vec<ConfigIssue>, value: T) -> Result<T, Vec<ConfigIssue>> {
    if issues.is_empty() {
        Ok(value)
    } else {
        Err(issues)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Knobs {
        #[serde(default)]
        speed: u8,
    }

    #[test]
    fn absent_is_default_and_an_unknown_field_is_pointed_at() {
        let mut issues = Vec::new();
        let k: Knobs = parse_object(&Value::Null, "/settings", &mut issues);
        assert_eq!((k, issues.len()), (Knobs::default(), 0));
        let k: Knobs = parse_object(&json!({"speed": 3}), "/settings", &mut issues);
        assert_eq!((k.speed, issues.len()), (3, 0));
        let _: Knobs = parse_object(&json!({"a/b": 1}), "/settings", &mut issues);
        let _: Knobs = parse_object(&json!({"speed": "x"}), "/defaults", &mut issues);
        let pointers: Vec<&str> = issues.iter().map(|i| i.pointer.as_str()).collect();
        assert_eq!(pointers, ["/settings/a~1b", "/defaults"]);
        assert_eq!(finish(issues, ()).unwrap_err().len(), 2);
        assert_eq!(finish(Vec::new(), 7).unwrap(), 7);
    }
}
