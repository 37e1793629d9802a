//! "did you mean" for names that refer to other parts of the config.

/// `; did you mean `x`?` when one of `known` is a likely typo of `name`, else empty.
pub(super) fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let close_enough = |d: usize| d <= 2 || d * 3 <= name.chars().count();
    known
        .into_iter()
        .map(|k| (strsim::levenshtein(name, k), k))
        .filter(|(d, _)| *d > 0 && close_enough(*d))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_the_closest_and_only_close_ones() {
        let known = ["axim-sandbox", "juniper-sandbox"];
        assert_eq!(
            did_you_mean("axim-sandbx", known),
            "; did you mean `axim-sandbox`?"
        );
        assert_eq!(did_you_mean("impilo-production", known), "");
        assert_eq!(
            did_you_mean("axm", ["axim", "adobe-vipmp"]),
            "; did you mean `axim`?"
        );
    }
}
