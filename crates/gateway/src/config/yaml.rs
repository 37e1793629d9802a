//! YAML -> JSON with positions. Config errors must name `file:line:column`, and serde
//! stops at the first error; so the YAML is turned into a JSON tree once, remembering
//! where every node started, and every later check reports a JSON Pointer that is
//! looked up here.

use std::collections::HashMap;

use marked_yaml::Node;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode, MarkedSequenceNode};
use order_model::escape_pointer;
use serde_json::{Map, Number, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Default, Clone)]
pub struct Positions {
    at: HashMap<String, Pos>,
}

impl Positions {
    /// The position of the node at `pointer`, or of its nearest ancestor that has one
    /// (a missing field is reported where its parent object starts).
    pub fn find(&self, pointer: &str) -> Option<Pos> {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.at.get(p) {
                return Some(*pos);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Option<Pos>,
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = self.pos {
            write!(f, "{}:{}: ", p.line, p.column)?;
        }
        f.write_str(&self.message)
    }
}

pub fn parse(text: &str) -> Result<(Value, Positions), YamlError> {
    // Quoted scalars must stay strings ("2" is not 2), and a duplicate key is an error,
    // not a silent override.
    let options = marked_yaml::LoaderOptions::default()
        .prevent_coercion(true)
        .error_on_duplicate_keys(true);
    let node = marked_yaml::parse_yaml_with_options(0, text, options).map_err(load_error)?;
    let mut positions = Positions::default();
    let value = convert(&node, String::new(), &mut positions);
    Ok((value, positions))
}

/// The loader's position goes into the error's own field (the `file:line:column:`
/// prefix), not its message.
fn load_error(e: marked_yaml::LoadError) -> YamlError {
    use marked_yaml::LoadError as E;
    let at = match &e {
        E::TopLevelMustBeMapping(m)
        | E::TopLevelMustBeSequence(m)
        | E::UnexpectedAnchor(m)
        | E::MappingKeyMustBeScalar(m)
        | E::UnexpectedTag(m)
        | E::ScanError(m, _) => Some(*m),
        E::DuplicateKey(d) => d.key.span().start().copied(),
    };
    let message = e.to_string();
    let Some(m) = at else {
        return YamlError { pos: None, message };
    };
    let prefix = format!("{m}: ");
    YamlError {
        pos: mark(Some(&m)),
        message: message
            .strip_prefix(&prefix)
            .map(str::to_owned)
            .unwrap_or(message),
    }
}

fn mark(node_start: Option<&marked_yaml::Marker>) -> Option<Pos> {
    node_start.map(|m| Pos {
        line: m.line(),
        column: m.column(),
    })
}

fn convert(node: &Node, pointer: String, positions: &mut Positions) -> Value {
    match node {
        Node::Scalar(s) => {
            if let Some(p) = mark(s.span().start()) {
                positions.at.insert(pointer.clone(), p);
            }
            scalar(s)
        }
        Node::Mapping(m) => {
            // A mapping's own span starts after its first token; its first key is
            // where a reader sees it begin.
            let first_key = m.iter().next().and_then(|(k, _)| mark(k.span().start()));
            if let Some(p) = first_key.or_else(|| mark(m.span().start())) {
                positions.at.entry(pointer.clone()).or_insert(p);
            }
            mapping(m, &pointer, positions)
        }
        Node::Sequence(s) => {
            if let Some(p) = mark(s.span().start()) {
                positions.at.insert(pointer.clone(), p);
            }
            sequence(s, &pointer, positions)
        }
    }
}

fn mapping(m: &MarkedMappingNode, pointer: &str, positions: &mut Positions) -> Value {
    let mut out = Map::new();
    for (k, v) in m.iter() {
        let child = format!("{pointer}/{}", escape_pointer(k.as_str()));
        // Point a key's errors at the key itself, which is where a reader looks.
        if let Some(p) = mark(k.span().start()) {
            positions.at.insert(child.clone(), p);
        }
        let before = positions.at.get(&child).copied();
        let value = convert(v, child.clone(), positions);
        if let Some(p) = before {
            positions.at.insert(child.clone(), p);
        }
        out.insert(k.as_str().to_owned(), value);
    }
    Value::Object(out)
}

fn sequence(s: &MarkedSequenceNode, pointer: &str, positions: &mut Positions) -> Value {
    Value::Array(
        s.iter()
            .enumerate()
            .map(|(i, n)| convert(n, format!("{pointer}/{i}"), positions))
            .collect(),
    )
}

/// YAML 1.2 core schema typing for plain scalars; quoted scalars stay strings.
fn scalar(s: &MarkedScalarNode) -> Value {
    let text = s.as_str();
    if !s.may_coerce() {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    if text.chars().any(|c| c.is_ascii_digit())
        && !text.contains(':')
        && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_types() {
        let (v, pos) = parse("a: 1\nb:\n  - x: \"2\"\n    y: true\n").unwrap();
        assert_eq!(v["a"], 1);
        assert_eq!(v["b"][0]["x"], "2");
        assert_eq!(v["b"][0]["y"], true);
        assert_eq!(pos.find("/b/0/y"), Some(Pos { line: 4, column: 5 }));
        assert_eq!(pos.find("/b/0/missing"), Some(Pos { line: 3, column: 5 }));
    }
}
