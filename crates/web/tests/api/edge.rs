//! The edge of the JSON APIs: every 4xx a handler did not write (router 404 and 405, the
//! body limit's 413, 414, 415, axum's extractor rejections) carries
//! `{error, message, businessErrors:[{type, message, solutionUrl}]}`; and the security
//! headers of every response.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use crate::harness::{Resp, TestApp, ADMIN_TOKEN};

/// The documented error body, with `error` and the first `businessErrors[].type` as given.
fn assert_shape(r: &Resp, status: StatusCode, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"], error, "{}", r.text);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text);
    let first = &r.body["businessErrors"][0];
    assert_eq!(first["type"], error, "{}", r.text);
    assert!(first["message"].is_string() && first.get("solutionUrl").is_some(), "{}", r.text);
}

fn request(method: &str, uri: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.into()).unwrap()
}

#[tokio::test]
async fn every_error_status_at_the_edge_carries_the_error_body() {
    let t = TestApp::sqlite().await.unwrap();
    let (_, key) = t.new_partner("Ledgerly").await;
    let admin = format!("Bearer {ADMIN_TOKEN}");

    // 404 for unknown routes under each API.
    for path in ["/referral-api/nope", "/customer-api/nope/deeper", "/admin-api/v1/nope", "/admin-api/v2/partners"] {
        let r = t.call("GET", path, &[("XApiKey", &key)], None).await;
        assert_shape(&r, StatusCode::NOT_FOUND, "NotFound");
    }
    // A reference path we do not offer is a 404, whatever the method (not a bodiless 405
    // of `/cases/{id}`).
    for method in ["GET", "POST"] {
        let r = t.call(method, "/customer-api/cases/preview", &[], Some(serde_json::json!({}))).await;
        assert_shape(&r, StatusCode::NOT_FOUND, "NotFound");
    }

    // 405, keeping the Allow header; made-up methods too.
    for method in ["DELETE", "PUT", "BREW"] {
        let res = t.router.clone().oneshot(request(method, "/referral-api/me", &[("XApiKey", &key)], Body::empty())).await.unwrap();
        assert!(res.headers().get("allow").is_some_and(|a| a.to_str().unwrap().contains("GET")), "{method}: {:?}", res.headers());
        let r = t.send(request(method, "/referral-api/me", &[("XApiKey", &key)], Body::empty())).await;
        assert_shape(&r, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
        assert!(r.body["message"].as_str().unwrap().contains(method), "{}", r.text);
    }

    // 413 from the body limit (declared length), instead of the text `length limit exceeded`.
    let big = format!("{{\"externalTenantId\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let len = big.len().to_string();
    let r = t
        .send(request(
            "POST",
            "/referral-api/clients",
            &[("XApiKey", &key), ("content-type", "application/json"), ("content-length", &len)],
            big,
        ))
        .await;
    assert_shape(&r, StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge");

    // 414 for an over-long URI.
    let long = format!("/referral-api/cases?q={}", "a".repeat(9 * 1024));
    let r = t.call("GET", &long, &[("XApiKey", &key)], None).await;
    assert_shape(&r, StatusCode::URI_TOO_LONG, "UriTooLong");

    // 415 for a body that says it is not JSON; a body without a content type is read as
    // JSON, and CSV still loads FX rates.
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/xml"] {
        let r = t.send(request("POST", "/referral-api/oauth/token", &[("XApiKey", &key), ("content-type", ct)], "{}")).await;
        assert_shape(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType");
    }
    let r = t.send(request("POST", "/referral-api/oauth/token", &[("XApiKey", &key)], "{}")).await;
    assert_shape(&r, StatusCode::BAD_REQUEST, "ValidationError");
    let r = t
        .send(request("POST", "/referral-api/oauth/token", &[("XApiKey", &key), ("content-type", "application/json; charset=utf-8")], "{}"))
        .await;
    assert_shape(&r, StatusCode::BAD_REQUEST, "ValidationError");
    let csv = "Date,USD,GBP\n2026-03-09,1.0,0.79\n";
    let r = t
        .send(request(
            "POST",
            "/admin-api/v1/fx-rates",
            &[("authorization", &admin), ("content-type", "text/csv"), ("content-length", &csv.len().to_string())],
            csv,
        ))
        .await;
    assert_ne!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);
    // An unknown route stays a 404 whatever its body.
    let r = t.send(request("POST", "/referral-api/nope", &[("content-type", "text/plain"), ("content-length", "2")], "{}")).await;
    assert_shape(&r, StatusCode::NOT_FOUND, "NotFound");

    // An axum extractor's plain-text rejection (a path segment that is not UTF-8).
    let r = t.call("GET", "/referral-api/clients/%FF%FE", &[("XApiKey", &key)], None).await;
    assert_shape(&r, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(r.body["message"].as_str().unwrap().to_lowercase().contains("utf"), "the rejection's reason is kept: {}", r.text);

    // Outside the APIs nothing is rewritten: the hosted pages keep their HTML.
    let r = t.call("GET", "/onboarding/not-a-uuid", &[], None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.starts_with("<!DOCTYPE html>"), "{}", r.text);
}
