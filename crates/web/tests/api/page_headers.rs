//! Security headers of the hosted pages and their error pages: no framing, no referrer,
//! no caching, and a Content-Security-Policy that allows the page's own stylesheet (its
//! hash matches the `<style>` the page carries) and nothing else.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::harness::{case_body, client_body, path_of, TestApp};

async fn get(t: &TestApp, path: &str) -> (StatusCode, HeaderMap, String) {
    let req = Request::builder().uri(path).body(Body::empty()).unwrap();
    let res = t.router.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header in {h:?}"))
}

/// Every header an HTML page must send, and a style hash that fits its stylesheet.
fn assert_page_headers(path: &str, headers: &HeaderMap, html: &str) {
    assert!(header(headers, "content-type").starts_with("text/html"), "{path}");
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{path}");
    assert_eq!(header(headers, "x-content-type-options"), "nosniff", "{path}");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer", "{path}");
    assert_eq!(header(headers, "cache-control"), "no-store", "{path}");
    let csp = header(headers, "content-security-policy");
    for directive in ["default-src 'none'", "img-src https:", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"] {
        assert!(csp.split(';').any(|d| d.trim() == directive), "{path}: `{directive}` missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("script-src"), "{path}: {csp}");
    let style = html.split_once("<style>").and_then(|(_, rest)| rest.split_once("</style>")).map(|(s, _)| s).expect("a stylesheet");
    let hash = format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes())));
    assert!(csp.contains(&format!("style-src {hash}")), "{path}: the page's stylesheet {hash} is not allowed by {csp}");
    assert!(!html.contains(" style=\""), "{path}: style attributes would be blocked");
}

async fn hosted_pages_send_security_headers(t: TestApp) {
    t.collection_partners().await;
    let branded = json!({"companyName": "Brandly", "contactEmail": "b@brandly.test", "branding": {
        "backgroundColorCode": "#14532d", "fontColor": "#ffffff", "fontFamily": "Georgia, serif",
        "logoUrl": "https://brandly.test/logo.png"}});
    let r = t.admin("POST", "/partners", Some(branded)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let key = r.body["apiKey"].as_str().unwrap().to_string();
    let created = t
        .partner(
            &key,
            "POST",
            "/clients",
            Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![case_body("A-1", "100", "GBP", "GB")])),
        )
        .await;
    let onboarding = path_of(created.body["onboardingLinks"]["url"].as_str().unwrap());
    let (status, headers, html) = get(&t, &onboarding).await;
    assert_eq!(status, StatusCode::OK);
    assert_page_headers(&onboarding, &headers, &html);
    assert!(html.contains("#14532d") && html.contains("https://brandly.test/logo.png"), "branding still applied");

    t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    let conflict = t.partner(&key, "POST", "/clients", Some(client_body("nw", "Nordwind ApS", "niels@nordwind.test", vec![]))).await;
    let approval = path_of(conflict.body["data"]["onboardingLinks"]["url"].as_str().unwrap());
    let (status, headers, html) = get(&t, &approval).await;
    assert_eq!(status, StatusCode::OK);
    assert_page_headers(&approval, &headers, &html);

    // Error pages too.
    for path in ["/onboarding/not-a-uuid", "/link-requests/no-such-token"] {
        let (status, headers, html) = get(&t, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_page_headers(path, &headers, &html);
    }
    // The sign-in pages, and a sign-in link that is not (or no longer) valid.
    for (path, want) in [("/login", StatusCode::OK), ("/login/no-such-secret", StatusCode::GONE)] {
        let (status, headers, html) = get(&t, path).await;
        assert_eq!(status, want, "{path}");
        assert_page_headers(path, &headers, &html);
    }
    // JSON answers are not sniffed either.
    let (_, headers, _) = get(&t, "/healthz").await;
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
}

crate::both_backends!(hosted_pages_send_security_headers);

#[tokio::test]
async fn a_plain_http_logo_is_not_shown_because_the_policy_would_block_it() {
    let t = TestApp::sqlite().await.unwrap();
    t.collection_partners().await;
    let body = json!({"companyName": "Plainly", "contactEmail": "p@plainly.test", "branding": {"logoUrl": "http://plainly.test/logo.png"}});
    let key = t.admin("POST", "/partners", Some(body)).await.body["apiKey"].as_str().unwrap().to_string();
    let created = t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    let (_, _, html) = get(&t, &path_of(created.body["onboardingLinks"]["url"].as_str().unwrap())).await;
    assert!(!html.contains("<img"), "{html}");
}
