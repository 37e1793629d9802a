//! Serde helpers for vendor wire types.

use rust_decimal::Decimal;
use serde::Serializer;
use serde_json::value::RawValue;

/// Serializes a decimal as a JSON number written exactly as the decimal reads ("31.84"
/// stays 31.84): going through f64 would turn some amounts into 31.839999999999996.
/// Only meaningful with `serde_json::to_vec`/`to_string`, which emit raw values verbatim.
pub fn decimal_as_number<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    let raw =
        RawValue::from_string(d.normalize().to_string()).map_err(serde::ser::Error::custom)?;
    serde::Serialize::serialize(&raw, s)
}

pub fn opt_decimal_as_number<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => decimal_as_number(d, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[derive(serde::Serialize)]
    struct T {
        #[serde(serialize_with = "decimal_as_number")]
        price: Decimal,
    }

    #[test]
    fn writes_the_exact_digits() {
        for (input, want) in [
            ("31.84", "31.84"),
            ("0.30", "0.3"),
            ("10", "10"),
            ("0.000001", "0.000001"),
        ] {
            let t = T {
                price: Decimal::from_str(input).unwrap(),
            };
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("{{\"price\":{want}}}")
            );
        }
    }
}
