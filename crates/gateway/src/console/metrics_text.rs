//! Reads the Prometheus text the gateway renders at `/metrics`, so the overview shows
//! exactly what a scrape would.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Series {
    pub fn label(&self, k: &str) -> &str {
        self.labels.get(k).map_or("", String::as_str)
    }
    /// Name and labels: the identity of a series across samples.
    pub fn key(&self) -> String {
        format!("{}{:?}", self.name, self.labels)
    }
}

/// Every sample line (`name{k="v",...} value`); comments and lines that do not parse
/// are skipped.
pub fn parse(text: &str) -> Vec<Series> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Series> {
    let (head, value) = line.rsplit_once(' ')?;
    let value = value.parse::<f64>().ok()?;
    let (name, labels) = match head.split_once('{') {
        None => (head, BTreeMap::new()),
        Some((name, rest)) => (name, labels(rest.strip_suffix('}')?)?),
    };
    Some(Series {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// `k="v",k2="v2"`, with `\"`, `\\` and `\n` escapes in values.
fn labels(mut rest: &str) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    while !rest.is_empty() {
        let (k, after) = rest.split_once("=\"")?;
        let mut v = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => v.push('\n'),
                    other => v.push(other),
                },
                '"' => break i,
                c => v.push(c),
            }
        };
        out.insert(k.trim_start_matches(',').to_owned(), v);
        rest = &after[end + 1..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_with_and_without_labels() {
        let got = parse(
            "# TYPE x counter\nvendor_calls_total{connection=\"a\",status=\"201\"} 3\nup 1\nodd{k=\"q\\\"uote\"} 2.5\n",
        );
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].name, "vendor_calls_total");
        assert_eq!(got[0].label("connection"), "a");
        assert_eq!(got[0].label("status"), "201");
        assert_eq!(got[0].value, 3.0);
        assert_eq!(got[1].name, "up");
        assert_eq!(got[2].label("k"), "q\"uote");
        assert!(parse("broken{k=\"v\" 1\nnan_value x\n").is_empty());
    }
}
