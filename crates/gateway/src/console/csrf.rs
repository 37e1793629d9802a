//! CSRF protection for the console's forms: a double-submit token. Each page sets a
//! random token in a `SameSite=Strict`, `HttpOnly` cookie (when the browser has none)
//! and puts the same token in every form; a POST must carry both, equal. A page on
//! another origin can neither read the cookie nor make the browser send it, and an
//! `Origin` header (sent by browsers on POST) must name this host.

use axum::http::{HeaderMap, HeaderValue, header};

const COOKIE: &str = "og_console_csrf";

/// The browser's token, or a new one with the `Set-Cookie` value that gives it.
pub fn token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(t) = cookie(headers) {
        return (t, None);
    }
    let t = uuid::Uuid::new_v4().simple().to_string();
    let set =
        HeaderValue::from_str(&format!("{COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict")).ok();
    (t, set)
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a form post is this console's own: the form's token equals the cookie's, and
/// an `Origin`, when sent, is this host.
pub fn check(headers: &HeaderMap, form_token: &str) -> Result<(), &'static str> {
    let Some(expected) = cookie(headers) else {
        return Err("the console's security cookie is missing: reload the page and try again");
    };
    if !same(expected.as_bytes(), form_token.as_bytes()) {
        return Err("the form's security token does not match: reload the page and try again");
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (None, _) => Ok(()),
        (Some(o), Some(h)) if o.strip_prefix("http://") == Some(h) => Ok(()),
        (Some(o), Some(h)) if o.strip_prefix("https://") == Some(h) => Ok(()),
        _ => Err("the form was posted from another site"),
    }
}

/// Compares without stopping at the first difference, so timing says nothing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_post_needs_the_cookie_and_the_same_token_from_this_origin() {
        let t = "0123456789abcdef0123456789abcdef";
        let cookie = format!("other=1; {COOKIE}={t}");
        let ok = headers(&[
            (header::COOKIE, &cookie),
            (header::HOST, "127.0.0.1:9090"),
            (header::ORIGIN, "http://127.0.0.1:9090"),
        ]);
        assert!(check(&ok, t).is_ok());
        assert!(check(&ok, "0123456789abcdef0123456789abcdee").is_err());
        assert!(check(&ok, "").is_err());
        let no_cookie = headers(&[(header::HOST, "127.0.0.1:9090")]);
        assert!(check(&no_cookie, t).is_err());
        let elsewhere = headers(&[
            (header::COOKIE, &cookie),
            (header::HOST, "127.0.0.1:9090"),
            (header::ORIGIN, "http://evil.example"),
        ]);
        assert!(check(&elsewhere, t).is_err());
    }

    #[test]
    fn a_page_reuses_the_browsers_token_or_sets_a_new_one() {
        let t = "0123456789abcdef0123456789abcdef";
        let cookie = format!("{COOKIE}={t}");
        assert_eq!(
            token(&headers(&[(header::COOKIE, &cookie)])),
            (t.to_owned(), None)
        );
        let (fresh, set) = token(&HeaderMap::new());
        assert_eq!(fresh.len(), 32);
        let set = set.unwrap();
        let set = set.to_str().unwrap();
        assert!(
            set.contains(&fresh) && set.contains("SameSite=Strict") && set.contains("HttpOnly")
        );
    }
}
