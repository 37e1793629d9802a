//! The order as a tree with each validation error marked where its pointer lands, so
//! an operator sees the problem in place, not only as a pointer string. An error whose
//! field is missing marks the nearest ancestor that exists.

use std::collections::BTreeMap;

use maud::{Markup, html};
use order_model::{FieldError, escape_pointer};
use serde_json::Value;

pub fn render(doc: &Value, errors: &[FieldError]) -> Markup {
    let mut marked: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in errors {
        let (at, missing) = nearest_existing(doc, &e.pointer);
        let text = match missing {
            Some(field) => format!("{} (missing: {field})", e.message),
            None => e.message.clone(),
        };
        marked.entry(at).or_default().push(text);
    }
    html! { div.tree #order-tree { (node(None, doc, "", &marked)) } }
}

/// The pointer itself when the document has it, else its nearest existing ancestor and
/// the part below it that is missing.
fn nearest_existing(doc: &Value, pointer: &str) -> (String, Option<String>) {
    let mut at = pointer;
    while doc.pointer(at).is_none() {
        match at.rfind('/') {
            Some(i) => at = &at[..i],
            None => return (String::new(), Some(pointer.to_owned())),
        }
    }
    let missing = (at.len() < pointer.len()).then(|| pointer[at.len()..].to_owned());
    (at.to_owned(), missing)
}

fn node(key: Option<&str>, v: &Value, ptr: &str, marked: &BTreeMap<String, Vec<String>>) -> Markup {
    let label = html! { @if let Some(k) = key { span.key { (k) ": " } } };
    let inner = match v {
        Value::Object(m) => html! {
            (label) "{"
            ul { @for (k, c) in m { li { (node(Some(k), c, &format!("{ptr}/{}", escape_pointer(k)), marked)) } } }
            "}"
        },
        Value::Array(items) => html! {
            (label) "["
            ul { @for (i, c) in items.iter().enumerate() { li { (node(Some(&i.to_string()), c, &format!("{ptr}/{i}"), marked)) } } }
            "]"
        },
        leaf => html! { (label) code { (leaf.to_string()) } },
    };
    match marked.get(ptr) {
        Some(messages) => html! {
            mark.error data-pointer=(ptr) { (inner) " " strong { "← error: " (messages.join("; ")) } }
        },
        None => inner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_marked_where_their_pointer_lands() {
        let doc = serde_json::json!({"lines": [{"sku": "A", "quantity": 0}], "a/b": {"c": 1}});
        let html = render(
            &doc,
            &[
                FieldError::new("/lines/0/quantity", "minimum", "must be at least 1"),
                FieldError::new("/customer/ref", "required", "is required"),
                FieldError::new("/a~1b/c", "type", "wrong"),
            ],
        )
        .into_string();
        assert!(
            html.contains(r#"data-pointer="/lines/0/quantity""#),
            "{html}"
        );
        assert!(html.contains("must be at least 1"), "{html}");
        // /customer is missing too: the whole order is marked, naming what is missing.
        assert!(html.contains(r#"data-pointer="""#), "{html}");
        assert!(
            html.contains("is required (missing: /customer/ref)"),
            "{html}"
        );
        assert!(html.contains(r#"data-pointer="/a~1b/c""#), "{html}");
        assert_eq!(html.matches("<mark").count(), 3, "{html}");
    }
}
