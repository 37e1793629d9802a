//! The page frame every console page shares, and the HTML response around it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// The console's pages, in nav order.
const NAV: &[(&str, &str)] = &[
    ("/", "Overview"),
    ("/playground", "Route playground"),
    ("/unknown", "Unknown orders"),
    ("/webhooks", "Webhook deliveries"),
];

pub fn frame(title: &str, active: &str, head_extra: Option<Markup>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(extra) = head_extra { (extra) }
                title { (title) " · order-gateway console" }
                link rel="stylesheet" href="/console/style.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    span.brand { "order-gateway console" }
                    nav aria-label="Console pages" {
                        ul {
                            @for (href, label) in NAV {
                                li {
                                    a href=(href) aria-current=[(*href == active).then_some("page")] { (label) }
                                }
                            }
                        }
                    }
                }
                main #main { h1 { (title) } (body) }
            }
        }
    }
}

/// An HTML page: never cached, never framed (the forms act), scripts off.
pub fn respond(status: StatusCode, set_cookie: Option<HeaderValue>, page: Markup) -> Response {
    let mut resp = (status, page.into_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin:
    // null` with the console's own form posts, which the CSRF check must refuse.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if let Some(c) = set_cookie {
        h.insert(header::SET_COOKIE, c);
    }
    resp
}

/// A status line as text, coloured by class: `ok`, `warn` or `bad`.
pub fn status(class: &str, text: &str) -> Markup {
    html! { span class=(format!("status-{class}")) { (text) } }
}
